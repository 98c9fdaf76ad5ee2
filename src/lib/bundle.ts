// Set to true by the device kit's esbuild bundle of the server (scripts/build-device-kit.ts, `define`); undeclared when
// the sources run through tsx.
declare const __GPUPLANE_SERVER_BUNDLE__: boolean | undefined;

/**
 * True when the server runs from the device kit's bundle. Every module then shares the bundle's import.meta.url, so
 * files found relative to a source file in the checkout (drizzle/, web/dist) are found beside the bundle instead.
 */
export const inServerBundle = typeof __GPUPLANE_SERVER_BUNDLE__ === "boolean" && __GPUPLANE_SERVER_BUNDLE__;
