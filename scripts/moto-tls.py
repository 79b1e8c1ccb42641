"""Serves moto's S3 emulator over TLS with cheroot (HTTP/1.1 keep-alive).

moto_server's own TLS (werkzeug) closes connections in a way pgBackRest reports as "unexpected eof", so this runs
moto's WSGI app under cheroot's WSGI server and builtin TLS adapter instead. Started by test/support/object-stores.ts
with the venv that scripts/emulators.sh installs:

    $CACHE_DIR/moto/bin/python scripts/moto-tls.py --host ADDR --port 9000 --cert server.pem --key server.key
"""

import argparse
import os
import signal


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    # Buckets are always in the path (the emulator's host name has no dots anyway).
    os.environ.setdefault("S3_IGNORE_SUBDOMAIN_BUCKETNAME", "true")
    os.environ.setdefault("MOTO_PORT", str(args.port))

    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter
    from moto.server import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    server = wsgi.Server(
        (args.host, args.port),
        app,
        numthreads=args.threads,
        server_name="emu-storage",
        timeout=60,
    )
    server.ssl_adapter = BuiltinSSLAdapter(args.cert, args.key)

    def stop(_signum, _frame):
        # Everything is in memory: nothing to flush. (server.stop() from the handler would deadlock serve().)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.prepare()
    print(f"moto-tls: listening on https://{args.host}:{args.port}", flush=True)
    server.serve()


if __name__ == "__main__":
    main()
