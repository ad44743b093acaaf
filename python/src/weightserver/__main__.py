# Copyright 2026 The Weightserver Authors.
"""python -m weightserver: small commands for workers' start-up scripts.

    python -m weightserver download-config URI DIR
        writes the model's config, tokenizer and other non-weight files into
        DIR (an engine's model path; the weights come from the server).
    python -m weightserver ls HOST:PORT
        lists the server's models.

Exit status 0 on success, 1 on a weightserver error (printed with its gRPC
code), 2 on a usage error.
"""
import argparse
import sys

from . import WeightserverError, download_config, list_models


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightserver")
    sub = parser.add_subparsers(dest="command", required=True)
    dc = sub.add_parser("download-config",
                        help="write a model's non-weight files into a directory")
    dc.add_argument("uri", help="weightserver://HOST:PORT/MODEL[@REVISION]")
    dc.add_argument("dir")
    ls = sub.add_parser("ls", help="list a server's models")
    ls.add_argument("target", help="HOST:PORT")
    args = parser.parse_args(argv)
    try:
        if args.command == "download-config":
            print(download_config(args.uri, args.dir))
        else:
            for m in list_models(args.target):
                print(m.name, m.revision or "-", m.error or "ok", sep="\t")
    except WeightserverError as e:
        print(f"weightserver: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
