/**
 * What the agent sends and receives, typed by the API's own OpenAPI document (@gpuplane/sdk's generated schema), so
 * a route change that breaks the agent fails the typecheck. Type-only: nothing of the SDK is loaded at run time, and
 * the agent installs on a GPU host without it.
 */
import type { components, paths } from "@gpuplane/sdk";

type Schemas = components["schemas"];

export type JoinRequest = Schemas["AgentJoin"];
export type HeartbeatRequest = Schemas["AgentHeartbeat"];
export type HeartbeatGpu = HeartbeatRequest["gpus"][number];
export type Assignments = Schemas["AgentAssignments"];
export type JobAssignment = Assignments["jobs"][number];
export type InstanceAssignment = Assignments["instances"][number];
export type MetricSample = Schemas["IngestMetrics"]["metrics"][number];
export type JobReport = Schemas["AgentJobReport"];

export type Method = "GET" | "POST";

type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][Lowercase<M>]>;

/** `/api/v1/agent/jobs/{id}/status` → the paths the agent writes: `/agent/jobs/${string}/status`. */
type Filled<P extends string> = P extends `${infer Head}{${string}}${infer Tail}`
  ? `${Head}${string}${Filled<Tail>}`
  : P;
type Written<P> = P extends `/api/v1${infer Rest}` ? Filled<Rest> : never;

/** Every path (as the agent writes it, under /api/v1, parameters filled in) that answers method M. */
export type PathFor<M extends Method> = {
  [P in keyof paths]: [Operation<P, M>] extends [never] ? never : Written<P>;
}[keyof paths];

type JsonOf<T> = T extends { content: { "application/json": infer J } } ? J : never;
type DataOf<R> = {
  [S in keyof R]: S extends 200 | 201 ? (JsonOf<R[S]> extends { data: infer D } ? D : never) : never;
}[keyof R];

/** The documented JSON body of `M path` (never: it takes none). */
export type BodyFor<M extends Method, S extends string> = {
  [P in keyof paths]: S extends Written<P>
    ? Operation<P, M> extends { requestBody?: infer B }
      ? JsonOf<NonNullable<B>>
      : never
    : never;
}[keyof paths];

/** The envelope's `data` of a successful answer to `M path`. */
export type ReplyFor<M extends Method, S extends string> = {
  [P in keyof paths]: S extends Written<P>
    ? Operation<P, M> extends { responses: infer R }
      ? DataOf<R>
      : never
    : never;
}[keyof paths];

/** The agent's reports to the server: POSTs under /agent whose answer it only needs to be an acknowledgement. */
export type ReportPath = Extract<PathFor<"POST">, `/agent/${string}`>;
