/** Vite imports the stylesheet; TypeScript only needs to know it is a module. */
declare module '*.css';
