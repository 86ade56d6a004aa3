// Vite's client types (import.meta.glob, ?raw, ?worker) for the playground's sources.
/// <reference types="vite/client" />
