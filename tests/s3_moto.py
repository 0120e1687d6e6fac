"""A real S3-API server on loopback for tests/s3.rs: moto in server mode, with authentication on.

Usage: s3_moto.py BUCKET PREFIX=DIR [PREFIX=DIR ...]
Starts moto on a free 127.0.0.1 port, makes an IAM user allowed to do anything in S3 and an
access key for it, creates BUCKET and uploads every file of each DIR (not recursing) under the
key `PREFIX/<file name>`. Then turns authentication on (every later request must be signed
with that key), prints one JSON line {"endpoint", "key_id", "secret", "bucket"} and serves until
its stdin closes (the test process ends). Any failure exits non-zero with the reason on stderr,
so the test fails, never skips.
"""

import json
import os
import sys


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: s3_moto.py BUCKET PREFIX=DIR [PREFIX=DIR ...]", file=sys.stderr)
        return 2
    bucket, dirs = sys.argv[1], sys.argv[2:]
    # No stray credentials or proxies from the caller's environment.
    for var in ("AWS_PROFILE", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(var, None)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    import logging

    import boto3
    from moto import settings
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"

    def client(service, key_id="setup", secret="setup"):
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )

    iam = client("iam")
    iam.create_user(UserName="strobe-test")
    iam.put_user_policy(
        UserName="strobe-test",
        PolicyName="s3-all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="strobe-test")["AccessKey"]
    # From here on every request must carry a valid signature of that key.
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0

    s3 = client("s3", key["AccessKeyId"], key["SecretAccessKey"])
    s3.create_bucket(Bucket=bucket)
    for pair in dirs:
        prefix, _, d = pair.partition("=")
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if os.path.isfile(path):
                s3.upload_file(path, bucket, f"{prefix}/{name}")

    print(
        json.dumps(
            {
                "endpoint": endpoint,
                "key_id": key["AccessKeyId"],
                "secret": key["SecretAccessKey"],
                "bucket": bucket,
            }
        ),
        flush=True,
    )
    sys.stdin.read()  # serve until the test closes our stdin (or exits)
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
