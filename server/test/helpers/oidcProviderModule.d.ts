// oidc-provider ships no type declarations; oidcProvider.ts narrows it to what it uses.
declare module 'oidc-provider' {
  const Provider: unknown;
  export default Provider;
}
