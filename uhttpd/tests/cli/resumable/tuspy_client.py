"""Uploads a file with tuspy (tus 1.0.0), one chunk per PATCH, for
tests/cli/resumable.rs: prints "url URL" once the upload exists, then
"offset N" after each chunk the server acknowledged, then "done".

usage: tuspy_client.py ENDPOINT FILE CHUNK_SIZE NAME [--resume URL] [--checksum]
"""

import argparse

from tusclient import client


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("file")
    parser.add_argument("chunk_size", type=int)
    parser.add_argument("name")
    parser.add_argument("--resume")
    parser.add_argument("--checksum", action="store_true")
    args = parser.parse_args()

    uploader = client.TusClient(args.endpoint).uploader(
        args.file,
        url=args.resume,
        chunk_size=args.chunk_size,
        metadata={"filename": args.name},
        # A killed predecessor's append may still hold the upload (423)
        # for the moment the server takes to see its connection gone.
        retries=50,
        retry_delay=0.1,
        upload_checksum=args.checksum,
    )
    if uploader.url is None:
        uploader.set_url(uploader.create_url())
    print("url", uploader.url, flush=True)
    while uploader.offset < uploader.get_file_size():
        uploader.upload_chunk()
        print("offset", uploader.offset, flush=True)
    print("done", flush=True)


main()
