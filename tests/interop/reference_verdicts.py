# Copyright 2026 The Weightserver Authors.
#
# tests/interop/reference_verdicts.py: what the reference `safetensors`
# package says about a file, as one of the reference's error kinds
# (safetensors.md §4) or "ok", and the comparison of a conformance corpus's
# expected.json with it.
#
# Example:
#   reference_kind("bad_gap.safetensors")          # "InvalidOffset"
#   disagreements("build/conformance")            # [] when all agree
#
# The kind is read from the SafetensorError message. Since v0.6.0 (#616) the
# reference prints human-readable texts ("invalid offset for tensor `a`");
# older versions printed the variant name ("InvalidOffset(\"a\")"). Both are
# recognised; a message matching neither is returned as "unrecognised: ...",
# which never equals a kind, so a new reference wording fails loudly.
import json
import os
import re
import sys

from safetensors import SafetensorError, deserialize, safe_open

# Message prefixes of safetensors >= 0.6 (Display of SafeTensorError,
# tensor.rs), first match wins.
_TEXTS = [
    ("header too small", "HeaderTooSmall"),
    ("header too large", "HeaderTooLarge"),
    ("invalid header length", "InvalidHeaderLength"),
    ("invalid UTF-8 in header", "InvalidHeader"),
    ("invalid JSON in header", "InvalidHeaderDeserialization"),
    ("invalid offset for tensor", "InvalidOffset"),
    ("overflow computing buffer size", "ValidationOverflow"),
    ("The slice is slicing for subbytes dtypes", "MisalignedSlice"),
    ("invalid shape, data type, or offset for tensor", "TensorInvalidInfo"),
    ("incomplete metadata, file not fully covered", "MetadataIncompleteBuffer"),
]
_VARIANTS = [kind for _, kind in _TEXTS] + ["InvalidHeaderStart"]
_PREFIXES = ("Error while deserializing header: ", "Error while deserializing: ")


def kind_of_message(message):
    """The reference kind named by a SafetensorError message."""
    for prefix in _PREFIXES:
        if message.startswith(prefix):
            message = message[len(prefix):]
            break
    for text, kind in _TEXTS:
        if message.startswith(text):
            return kind
    m = re.match(r"([A-Za-z]+)", message)
    if m and m.group(1) in _VARIANTS:
        return m.group(1)
    return "unrecognised: " + message


def reference_kind(path):
    """'ok' when the reference opens `path` (safe_open, then deserialize of
    the same bytes must agree), else the kind of its SafetensorError."""
    verdicts = []
    try:
        with safe_open(path, framework="np") as f:
            f.keys()
        verdicts.append("ok")
    except SafetensorError as e:
        verdicts.append(kind_of_message(str(e)))
    with open(path, "rb") as f:
        data = f.read()
    try:
        deserialize(data)
        verdicts.append("ok")
    except SafetensorError as e:
        verdicts.append(kind_of_message(str(e)))
    if verdicts[0] != verdicts[1]:
        return "safe_open says %s, deserialize says %s" % tuple(verdicts)
    return verdicts[0]


def expected_files(corpus):
    """{relative path: expected kind} from corpus/expected.json and, where
    present, corpus/deviations/expected.json (the reference's verdicts on the
    files where Weightserver deliberately differs)."""
    out = {}
    for sub in ("", "deviations"):
        path = os.path.join(corpus, sub, "expected.json")
        if sub and not os.path.exists(path):
            continue
        with open(path) as f:
            for name, kind in json.load(f).items():
                out[os.path.join(sub, name)] = kind
    return out


def disagreements(corpus):
    """[(file, expected, reference)] for every file of `corpus` where the
    reference's verdict is not expected.json's, plus files on disk that
    expected.json does not list (reference "unlisted")."""
    expected = expected_files(corpus)
    out = []
    for rel, kind in sorted(expected.items()):
        got = reference_kind(os.path.join(corpus, rel))
        if got != kind:
            out.append((rel, kind, got))
    for sub in ("", "deviations"):
        d = os.path.join(corpus, sub)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            rel = os.path.join(sub, name)
            if name.endswith(".safetensors") and rel not in expected:
                out.append((rel, "(not listed)", reference_kind(os.path.join(d, name))))
    return out


def main(argv):
    import safetensors
    print("reference safetensors", safetensors.__version__)
    bad = 0
    for corpus in argv:
        problems = disagreements(corpus)
        print("%s: %d files, %d disagreements" % (
            corpus, len(expected_files(corpus)), len(problems)))
        for rel, kind, got in problems:
            print("  %s: expected %s, reference %s" % (rel, kind, got))
        bad += len(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
