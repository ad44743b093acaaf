# Copyright 2026 The Weightserver Authors.
#
# tests/interop/interop_test.py: Weightserver against the reference
# implementation. Files written by the reference are served and fetched
# byte-identical; files written by `weightctl fetch` load in the reference
# with identical arrays; slices fetched with `--slice`/`--shard` equal the
# reference's get_slice; `weightctl check` agrees with the reference. The
# reference's verdict on each file of the generated conformance corpus is the
# one its expected.json records (reference_verdicts.py); with
# --shared-conformance, also on the files of that outside suite, which the
# generated corpus must cover case by case.
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

import reference_verdicts

ARGS = None


def arrays():
    rng = np.random.default_rng(7)
    return {
        "model.layers.0.attn.weight": rng.standard_normal((16, 24)).astype(np.float32),
        "model.layers.0.mlp.weight": rng.standard_normal((24, 8)).astype(np.float16),
        "model.norm.weight": rng.standard_normal((24,)).astype(np.float64),
        "position_ids": np.arange(12, dtype=np.int64).reshape(3, 4),
        "mask": rng.integers(0, 2, (5, 3)).astype(np.bool_),
        "q8": rng.integers(-128, 127, (4, 4)).astype(np.int8),
        "u8": rng.integers(0, 255, (9,)).astype(np.uint8),
        "i16": rng.integers(-999, 999, (2, 3, 4)).astype(np.int16),
        "u32": rng.integers(0, 2**31, (6,)).astype(np.uint32),
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }


class InteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ws_interop_")
        cls.repo = os.path.join(cls.tmp, "repo")
        cls.arrays = arrays()
        # A single-file model written by the reference.
        os.makedirs(os.path.join(cls.repo, "ref"))
        cls.ref_file = os.path.join(cls.repo, "ref", "model.safetensors")
        save_file(cls.arrays, cls.ref_file, metadata={"format": "np"})
        # A sharded model written by the reference, with an HF-style index.
        names = sorted(cls.arrays)
        shards = [names[: len(names) // 2], names[len(names) // 2:]]
        os.makedirs(os.path.join(cls.repo, "org", "sharded"))
        weight_map = {}
        for i, part in enumerate(shards):
            fname = "model-%05d-of-%05d.safetensors" % (i + 1, len(shards))
            save_file({n: cls.arrays[n] for n in part},
                      os.path.join(cls.repo, "org", "sharded", fname),
                      metadata={"format": "pt"})
            weight_map.update({n: fname for n in part})
        total = sum(a.nbytes for a in cls.arrays.values())
        with open(os.path.join(cls.repo, "org", "sharded",
                               "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total},
                       "weight_map": weight_map}, f, indent=2)
        cls.extra = {"config.json": b'{"model_type": "llama"}\n',
                     "tokenizer_config.json": b'{"chat_template": "{{ m }}"}',
                     "tokenizer.model": os.urandom(200_000)}
        for name, data in cls.extra.items():
            with open(os.path.join(cls.repo, "org", "sharded", name), "wb") as f:
                f.write(data)
        cls.server = subprocess.Popen(
            [ARGS.server, "--repo", cls.repo, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = cls.server.stdout.readline()
        m = re.search(r"listening on (\S+)", line)
        if not m:
            cls.server.kill()
            raise RuntimeError("server did not start: %r" % line)
        cls.addr = m.group(1)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=30)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def ctl(self, *args, check=True):
        p = subprocess.run([ARGS.weightctl, "--server", self.addr, *args],
                           capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            self.fail("weightctl %s failed (%d): %s" % (args, p.returncode, p.stderr))
        return p

    def assert_same_arrays(self, loaded, names):
        self.assertEqual(sorted(loaded), sorted(names))
        for n in names:
            self.assertEqual(loaded[n].dtype, self.arrays[n].dtype, n)
            self.assertEqual(loaded[n].shape, self.arrays[n].shape, n)
            np.testing.assert_array_equal(loaded[n], self.arrays[n], err_msg=n)

    def test_reference_file_is_served_byte_identical(self):
        out = os.path.join(self.tmp, "mirror_ref") + "/"
        self.ctl("fetch", "ref", "-o", out)
        with open(self.ref_file, "rb") as a, open(out + "model.safetensors", "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_sharded_mirror_is_byte_identical_and_loads(self):
        out = os.path.join(self.tmp, "mirror_sharded") + "/"
        p = self.ctl("fetch", "org/sharded", "-o", out)
        self.assertIn("and 3 other file(s)", p.stdout)
        src = os.path.join(self.repo, "org", "sharded")
        self.assertEqual(sorted(os.listdir(src)), sorted(os.listdir(out)))
        for name in os.listdir(src):
            if name != "model.safetensors.index.json":
                with open(os.path.join(src, name), "rb") as a, open(out + name, "rb") as b:
                    self.assertEqual(a.read(), b.read(), name)
        with open(out + "model.safetensors.index.json") as f:
            index = json.load(f)
        with open(os.path.join(src, "model.safetensors.index.json")) as f:
            self.assertEqual(index, json.load(f))
        loaded = {}
        for shard in sorted(set(index["weight_map"].values())):
            loaded.update(load_file(out + shard))
        self.assert_same_arrays(loaded, list(self.arrays))

    def test_whole_sharded_model_as_one_file_loads_in_reference(self):
        out = os.path.join(self.tmp, "all.safetensors")
        self.ctl("fetch", "org/sharded", "-o", out)
        self.assert_same_arrays(load_file(out), list(self.arrays))
        with safe_open(out, framework="np") as f:
            self.assertEqual(f.metadata(), {"format": "pt"})

    def test_chosen_tensors_load_in_reference(self):
        out = os.path.join(self.tmp, "two.safetensors")
        names = ["model.norm.weight", "position_ids", "scalar"]
        self.ctl("fetch", "ref", "-o", out, *sum((["--tensor", n] for n in names), []))
        self.assert_same_arrays(load_file(out), names)

    def test_inspect_json_agrees_with_reference(self):
        toc = json.loads(self.ctl("inspect", "ref", "--json").stdout)
        text = json.dumps(toc)
        with safe_open(self.ref_file, framework="np") as f:
            for name in f.keys():
                self.assertIn(name, text)
                sl = f.get_slice(name)
                self.assertIn(sl.get_dtype(), text)

    def test_check_accepts_reference_files_and_rejects_what_reference_rejects(self):
        self.assertEqual(self.ctl("check", self.ref_file).returncode, 0)
        bad = os.path.join(self.tmp, "bad.safetensors")
        with open(self.ref_file, "rb") as f:
            data = f.read()
        with open(bad, "wb") as f:
            f.write(data + b"polyglot")  # Trailing bytes.
        with self.assertRaises(Exception):
            load_file(bad)
        p = self.ctl("check", bad, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("MetadataIncompleteBuffer", p.stdout + p.stderr)

    # Slices: `weightctl fetch --slice/--shard` against the reference's
    # get_slice (numpy framework: plain a:b slices only, no steps, no negative
    # bounds), byte for byte.
    def fetch_slices(self, out_name, *flags):
        out = os.path.join(self.tmp, out_name)
        self.ctl("fetch", "ref", "-o", out, *flags)
        return load_file(out)

    def assert_same_bytes(self, got, want, what):
        self.assertEqual(got.dtype, want.dtype, what)
        self.assertEqual(got.shape, want.shape, what)
        self.assertEqual(got.tobytes(), want.tobytes(), what)

    def test_slices_match_reference_get_slice(self):
        cases = [  # (name, SPEC, reference index)
            ("model.layers.0.attn.weight", "4:12", np.s_[4:12]),          # rows
            ("model.layers.0.mlp.weight", ":,2:6", np.s_[:, 2:6]),         # columns
            ("i16", "1:2,0:3,1:3", np.s_[1:2, 0:3, 1:3]),                  # 3-D
            ("i16", ":,:,3:4", np.s_[:, :, 3:4]),
            ("position_ids", "0:3,1:1", np.s_[0:3, 1:1]),                  # empty
            ("u8", "2:9", np.s_[2:9]),
            ("model.norm.weight", "0:24", np.s_[0:24]),
        ]
        with safe_open(self.ref_file, framework="np") as f:
            for i, (name, spec, index) in enumerate(cases):
                got = self.fetch_slices("slice%d.safetensors" % i,
                                        "--slice", "%s=%s" % (name, spec))
                self.assertEqual(list(got), [name])
                self.assert_same_bytes(got[name], f.get_slice(name)[index],
                                       "%s=%s" % (name, spec))

    def test_multi_range_slices_match_concatenated_reference_slices(self):
        with safe_open(self.ref_file, framework="np") as f:
            attn = f.get_slice("model.layers.0.attn.weight")
            mlp = f.get_slice("model.layers.0.mlp.weight")
            cube = f.get_slice("i16")
            got = self.fetch_slices(
                "multi.safetensors",
                "--slice", "model.layers.0.attn.weight=0:4+8:12+14:16,:",
                "--slice", "model.layers.0.mlp.weight=:,0:2+6:8",
                "--slice", "i16=1:2+0:1,:,0:1+2:4")
            self.assertEqual(sorted(got), sorted([
                "model.layers.0.attn.weight", "model.layers.0.mlp.weight", "i16"]))
            self.assert_same_bytes(
                got["model.layers.0.attn.weight"],
                np.concatenate([attn[0:4], attn[8:12], attn[14:16]], axis=0), "qkv rows")
            self.assert_same_bytes(
                got["model.layers.0.mlp.weight"],
                np.concatenate([mlp[:, 0:2], mlp[:, 6:8]], axis=1), "columns")
            rows = np.concatenate([cube[1:2], cube[0:1]], axis=0)
            self.assert_same_bytes(
                got["i16"], np.concatenate([rows[:, :, 0:1], rows[:, :, 2:4]], axis=2),
                "3-D")

    def test_column_shards_match_reference_and_reassemble(self):
        name = "model.layers.0.attn.weight"  # F32 [16, 24]
        parts = []
        with safe_open(self.ref_file, framework="np") as f:
            for rank in range(4):
                got = self.fetch_slices("shard%d.safetensors" % rank, "--tensor", name,
                                        "--shard", "1/%d/4" % rank)
                self.assert_same_bytes(got[name],
                                       f.get_slice(name)[:, rank * 6:(rank + 1) * 6],
                                       "rank %d" % rank)
                parts.append(got[name])
        np.testing.assert_array_equal(np.concatenate(parts, axis=1), self.arrays[name])

    def test_bad_slice_specs_are_clear_errors(self):
        out = os.path.join(self.tmp, "bad_slice.safetensors")
        for flags, code, message in [
                (["--slice", "i16=1:x"], 2, "needs two non-negative integers"),
                (["--slice", "i16=3:1"], 2, "start > stop"),
                (["--slice", "i16"], 2, "expected NAME=SPEC"),
                (["--shard", "0/4/4", "--tensor", "i16"], 2, "rank 4"),
                (["--slice", "i16=0:3"], 1, "range [0, 3) is past the end"),
                (["--slice", "i16=:,:,:,:"], 1, "4 dimensions given"),
                (["--tensor", "i16", "--shard", "1/0/2"], 1, "does not split evenly"),
                (["--slice", "nope=0:1"], 1, "nope")]:
            p = self.ctl("fetch", "ref", "-o", out, *flags, check=False)
            self.assertEqual(p.returncode, code, (flags, p.stderr))
            self.assertIn(message, p.stderr, flags)
            self.assertFalse(os.path.exists(out), flags)

    def test_unknown_model_is_a_clear_error(self):
        p = self.ctl("fetch", "nope", "-o", os.path.join(self.tmp, "x.safetensors"),
                     check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("nope", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.safetensors")))


class ReferenceVerdictTest(unittest.TestCase):
    """The reference reader's verdicts, not ours, are the corpus's."""

    def test_reference_agrees_with_generated_expected_json(self):
        if not ARGS.conformance:
            self.skipTest("no --conformance corpus given")
        files = reference_verdicts.expected_files(ARGS.conformance)
        self.assertGreater(len(files), 0, ARGS.conformance)
        self.assertEqual(reference_verdicts.disagreements(ARGS.conformance), [])

    def test_shared_suite(self):
        """The reference agrees with the outside suite's expected.json, and
        the generated corpus has each of its cases under the same name with
        the same verdict (at the top or among the deviations)."""
        if not ARGS.shared_conformance or not ARGS.conformance:
            self.skipTest("no --shared-conformance suite given")
        shared = ARGS.shared_conformance
        self.assertGreater(len(reference_verdicts.expected_files(shared)), 0)
        self.assertEqual(reference_verdicts.disagreements(shared), [])
        ours = reference_verdicts.expected_files(ARGS.conformance)
        for name, kind in reference_verdicts.expected_files(shared).items():
            covering = [k for k in (name, os.path.join("deviations", name)) if k in ours]
            self.assertTrue(covering, "no generated case named %s" % name)
            self.assertEqual(ours[covering[0]], kind, name)
            self.assertEqual(
                reference_verdicts.reference_kind(
                    os.path.join(ARGS.conformance, covering[0])), kind, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--weightctl", required=True)
    parser.add_argument("--conformance", help="the generated corpus's directory")
    parser.add_argument("--shared-conformance", help="an outside suite to cover")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest)
