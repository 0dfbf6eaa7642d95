// The two classes of the Appwrite web SDK the dashboard signs in with, in a module of their own that the
// dashboard loads on demand: importing them by name lets esbuild leave out the SDK's other services
// (Databases, Storage, Realtime...), which `import('appwrite')` would keep, since it needs the whole namespace.
export { Account, Client } from 'appwrite';
