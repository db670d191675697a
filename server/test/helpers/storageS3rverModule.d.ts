// s3rver ships no type declarations; storageS3rver.ts narrows it to what it uses.
declare module 's3rver' {
  const S3rver: unknown;
  export default S3rver;
}
