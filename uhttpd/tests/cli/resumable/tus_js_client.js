// Uploads a file with tus-js-client under Node, for tests/cli/resumable.rs:
// prints "url URL" once the upload exists, "offset N" after each chunk the
// server acknowledged, then "done"; exits 1 on an error.
//
// usage: node tus_js_client.js ENDPOINT FILE PROTOCOL CHUNK_SIZE NAME [RESUME_URL]
// PROTOCOL: tus-v1, ietf-draft-05 or ietf-draft-03 (tus-js-client's IETF options).
// With UPLOAD_LENGTH_DEFERRED=1 in the environment, the length is not
// declared at creation (tus: Upload-Defer-Length) but by the last PATCH.

const fs = require('fs');
const tus = require('tus-js-client');

const [endpoint, file, protocol, chunkSize, name, resumeUrl] = process.argv.slice(2);
const data = fs.readFileSync(file);
const deferred = process.env.UPLOAD_LENGTH_DEFERRED === '1';

const upload = new tus.Upload(data, {
  endpoint,
  uploadUrl: resumeUrl || null,
  protocol,
  chunkSize: Number(chunkSize),
  uploadSize: deferred ? null : data.length,
  uploadLengthDeferred: deferred,
  metadata: { filename: name },
  // A killed predecessor's append may still hold the upload (423) for the
  // moment the server takes to see its connection gone.
  retryDelays: [0, 50, 100, 200, 400, 800, 1000, 1000, 1000, 1000],
  onUploadUrlAvailable() {
    console.log(`url ${upload.url}`);
  },
  onChunkComplete(_size, accepted) {
    console.log(`offset ${accepted}`);
  },
  onSuccess() {
    console.log('done');
  },
  onError(error) {
    console.error(`error ${error}`);
    process.exit(1);
  },
});
upload.start();
