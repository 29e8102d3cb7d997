/** Every migration, in order. The data source takes this list, so compiled and test runs agree. */
import { InitialSchema1764000000000 } from './1764000000000-initial-schema.js';
import { Usage1764100000000 } from './1764100000000-usage.js';
import { OrganizationSettings1764200000000 } from './1764200000000-organization-settings.js';

export const migrations = [InitialSchema1764000000000, Usage1764100000000, OrganizationSettings1764200000000];
