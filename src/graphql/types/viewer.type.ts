import { Field, ObjectType } from 'type-graphql';
import type { Principal } from '../../auth/principal.js';
import { PrincipalKindEnum, ScopeEnum } from './enums.js';

@ObjectType({ description: 'The caller: how it authenticated, what it may do and where.' })
export class Viewer {
  @Field(() => PrincipalKindEnum) kind: PrincipalKindEnum;
  @Field({ description: 'The API key id (`key_…`) or the token subject.' }) actorId: string;
  @Field(() => [ScopeEnum], { description: 'Effective scopes, implied ones included.' }) scopes: ScopeEnum[];
  principal: Principal;

  static from(principal: Principal): Viewer {
    return Object.assign(new Viewer(), {
      kind: principal.kind as PrincipalKindEnum,
      actorId: principal.actorId,
      scopes: [...principal.scopes].sort() as ScopeEnum[],
      principal,
    });
  }
}
