# Copyright 2026 The Weightserver Authors.
