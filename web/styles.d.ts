/** Stylesheets imported by the page are bundled by esbuild into the page's CSS file. */
declare module '*.css' {}
