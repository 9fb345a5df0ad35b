// What the JSON scalar carries: any JSON value, as stored or as expgraph shapes it.
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };
