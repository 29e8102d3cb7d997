import { Field, ID, InterfaceType } from 'type-graphql';

/** Relay's Node: anything with a global id that `node(id)` can fetch. */
@InterfaceType({ description: 'An object with a global id, fetchable with `node(id)`.' })
export abstract class Node {
  @Field(() => ID) id: string;
}
