// Copyright 2026 The Weightserver Authors.
//
// wire/model_info.cc
#include "wire/model_info.h"

namespace weightserver::wire {

v1::Model ModelInfoToProto(const format::ModelInfo& model) {
  v1::Model toc;
  toc.set_name(model.name);
  toc.set_revision(model.revision);
  toc.set_sharded(model.sharded);
  toc.set_index_metadata_json(model.index_metadata_json);
  for (const format::ModelFile& file : model.files) {
    v1::FileInfo* f = toc.add_files();
    f->set_name(file.name);
    f->set_size(file.size);
    f->set_header_size(file.header_size);
    f->set_has_metadata(file.metadata.has_value());
    if (file.metadata.has_value()) {
      for (const auto& [k, v] : *file.metadata) (*f->mutable_metadata())[k] = v;
    }
  }
  for (const format::ExtraFile& file : model.extra_files) {
    v1::ExtraFile* f = toc.add_extra_files();
    f->set_name(file.name);
    f->set_size(file.size);
  }
  toc.mutable_tensors()->Reserve(static_cast<int>(model.tensors.size()));
  for (const format::ModelTensor& t : model.tensors) {
    v1::TensorInfo* ti = toc.add_tensors();
    ti->set_name(t.name);
    ti->set_dtype(t.dtype);
    for (uint64_t d : t.shape) ti->add_shape(d);
    ti->set_file_index(t.file_index);
    ti->set_offset(t.offset);
    ti->set_length(t.length);
  }
  return toc;
}

format::ModelInfo ModelInfoFromProto(const v1::Model& toc) {
  format::ModelInfo model;
  model.name = toc.name();
  model.revision = toc.revision();
  model.sharded = toc.sharded();
  model.index_metadata_json = toc.index_metadata_json();
  model.files.reserve(toc.files_size());
  for (const v1::FileInfo& f : toc.files()) {
    format::ModelFile& file = model.files.emplace_back();
    file.name = f.name();
    file.size = f.size();
    file.header_size = f.header_size();
    if (f.has_metadata()) {
      file.metadata.emplace(f.metadata().begin(), f.metadata().end());
    }
  }
  for (const v1::ExtraFile& f : toc.extra_files()) {
    model.extra_files.push_back(format::ExtraFile{f.name(), f.size()});
  }
  model.tensors.reserve(toc.tensors_size());
  for (const v1::TensorInfo& t : toc.tensors()) {
    model.tensors.push_back(format::ModelTensor{
        t.name(), t.dtype(), {t.shape().begin(), t.shape().end()},
        t.file_index(), t.offset(), t.length()});
  }
  model.Reindex();
  return model;
}

v1::ModelSummary ModelSummaryToProto(const format::ModelSummary& summary) {
  v1::ModelSummary s;
  s.set_name(summary.name);
  s.set_revision(summary.revision);
  s.set_file_count(summary.file_count);
  s.set_tensor_count(summary.tensor_count);
  s.set_total_tensor_bytes(summary.total_tensor_bytes);
  s.set_error(summary.error);
  return s;
}

format::ModelSummary ModelSummaryFromProto(const v1::ModelSummary& s) {
  return format::ModelSummary{s.name(),         s.revision(),
                              s.file_count(),   s.tensor_count(),
                              s.total_tensor_bytes(), s.error()};
}

}  // namespace weightserver::wire
