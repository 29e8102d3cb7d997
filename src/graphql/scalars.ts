import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';

/** Arbitrary JSON (EXIF). */
export const JSONScalar = GraphQLJSON;
/** A JSON object (presigned form fields). */
export const JSONObjectScalar = GraphQLJSONObject;
/** A file in a GraphQL multipart request (graphql-multipart-request-spec). */
export const UploadScalar = GraphQLUpload;
