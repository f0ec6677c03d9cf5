// `express4` is the devDependency alias of express@4, for running the Express adapter's tests
// on both major versions. Its API as the tests use it is the one @types/express describes.
declare module 'express4' {
  import express from 'express'
  export default express
}
