// Copyright 2026 The Weightserver Authors.
//
// wire/model_info.h: a table of contents (format/model_info.h) on the wire.
//
// GetModel answers a v1.Model and ListModels v1.ModelSummary lines; these
// convert them to and from the plain types the rest of the code uses, so
// that no public client header names a generated proto type.
//
// Example:
//   v1::Model toc = ModelInfoToProto(info);        // server, once per model
//   format::ModelInfo info = ModelInfoFromProto(toc);  // client
//
// Thread-safety: pure functions.
#ifndef WEIGHTSERVER_WIRE_MODEL_INFO_H_
#define WEIGHTSERVER_WIRE_MODEL_INFO_H_

#include "weightserver/format/model_info.h"
#include "weightserver/v1/weightserver.pb.h"

namespace weightserver::wire {

v1::Model ModelInfoToProto(const format::ModelInfo& model);
// The result is indexed (ModelInfo::Find works).
format::ModelInfo ModelInfoFromProto(const v1::Model& model);

v1::ModelSummary ModelSummaryToProto(const format::ModelSummary& summary);
format::ModelSummary ModelSummaryFromProto(const v1::ModelSummary& summary);

}  // namespace weightserver::wire

#endif  // WEIGHTSERVER_WIRE_MODEL_INFO_H_
