import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // .next/standalone is what the container image ships (see README: "Image layout").
  output: "standalone",
  // Trace files relative to this app, so the standalone tree has server.js at its root
  // no matter where the repository is checked out.
  outputFileTracingRoot: __dirname,
  // No X-Powered-By banner in responses.
  poweredByHeader: false,
  // Keep out of the shipped tree what the server never loads: sharp/libvips (image
  // optimisation is off, see below) and TypeScript (traced only because of next.config.ts).
  // Less to scan, nothing unused to patch.
  outputFileTracingExcludes: {
    "*": ["node_modules/sharp/**", "node_modules/@img/**", "node_modules/typescript/**"],
  },
  // The image has a read-only root; only .next/cache is writable. Image optimisation
  // would write there unbounded, and the app has no images to optimise.
  images: { unoptimized: true },
  // Reproducible builds (issue 4): webpack's default "deterministic" module ids were drawn
  // differently from one clean build to the next, so the server chunks and the
  // *_client-reference-manifest.js files differed, and a module that drew id 0 fell out of
  // the client reference manifest (vercel/next.js#97937, fixed on canary only). Named ids are
  // the module's path relative to this app: the same on every build, and never 0.
  webpack: (config) => {
    config.optimization = { ...config.optimization, moduleIds: "named", chunkIds: "named" };
    return config;
  },
};

export default nextConfig;
