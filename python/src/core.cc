// Copyright 2026 The Weightserver Authors.
//
// python/src/core.cc: weightserver._core, the nanobind binding of the C++
// client. A thin layer: connect, table of contents, extra files, plans,
// loads into host (or GPU) memory, tensor-parallel helpers and model URIs; everything the
// Python package adds is in weightserver/*.py, and none of it is logic the
// C++ client lacks.
//
// Memory: a load returns a Table that owns one block (the C++ TensorTable's
// arena); start_load returns a PendingLoad whose Table fills as wait(i)
// says; Table.numpy / Table.torch give output i as a 1-D uint8 view of output i whose
// owner keeps the block alive, so numpy and torch (DLPack) views never copy.
// The GIL is released while bytes move. A failed call raises
// weightserver.WeightserverError with the gRPC code's name in .code.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "weightserver/client/client.h"
#include "weightserver/client/device.h"
#include "weightserver/client/load_plan.h"
#include "weightserver/client/pending_load.h"
#include "weightserver/client/selection.h"
#include "weightserver/client/tensor_table.h"
#include "weightserver/client/uri.h"
#include "weightserver/util/malloc_tuning.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace weightserver::python {
namespace {

namespace wc = ::weightserver::client;

// A failed absl::Status on its way to Python (see the translator below).
struct StatusError : std::exception {
  explicit StatusError(absl::Status s) : status(std::move(s)) {}
  const char* what() const noexcept override { return "weightserver status"; }
  absl::Status status;
};

void Check(const absl::Status& s) {
  if (!s.ok()) throw StatusError(s);
}
template <typename T>
T Take(absl::StatusOr<T> v) {
  Check(v.status());
  return *std::move(v);
}

// Python: a selection is a list (one entry per dimension) of lists of
// (start, stop) pairs; [] is the whole tensor, [] in a dimension all of it.
using PySelection = std::vector<std::vector<std::pair<uint64_t, uint64_t>>>;

wc::Selection ToSelection(const PySelection& py) {
  wc::Selection s;
  for (const auto& dim : py) {
    format::DimRanges ranges;
    for (const auto& [start, stop] : dim) ranges.push_back({start, stop});
    s.dims.push_back(std::move(ranges));
  }
  return s;
}

PySelection FromSelection(const wc::Selection& s) {
  PySelection py;
  for (const format::DimRanges& dim : s.dims) {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const format::IndexRange& r : dim) ranges.push_back({r.start, r.stop});
    py.push_back(std::move(ranges));
  }
  return py;
}

// A loaded table (or one being filled), shared with every array view of it.
struct Table {
  explicit Table(const wc::TensorTable& t, int device_index)
      : views(t.tensors()), owner(t.memory_owner()), device(device_index) {}
  std::vector<wc::TensorView> views;
  std::shared_ptr<void> owner;  // The memory the views are in.
  int device = -1;              // CUDA device index, -1 for host memory.
};

// A load running in the background (pending_load.h); output i of `table`
// holds its bytes once wait(i) returned.
struct Pending {
  std::unique_ptr<wc::PendingLoad> load;
  std::shared_ptr<Table> table;

  Pending() = default;
  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;
  // ~PendingLoad cancels and joins its thread (promptly: fetch_cancel.h);
  // other Python threads run meanwhile.
  ~Pending() {
    nb::gil_scoped_release unlocked;
    load.reset();
  }

  void Wait(size_t i) {
    nb::gil_scoped_release unlocked;
    Check(load->WaitFor(i));
  }
  void WaitAll() {
    nb::gil_scoped_release unlocked;
    Check(load->Wait());
  }
};

class PyClient {
 public:
  PyClient(const std::string& target, int streams, int connections,
           uint32_t chunk_bytes, double timeout_s, const std::string& token,
           bool tls, const std::string& tls_ca, const std::string& tls_cert,
           const std::string& tls_key, const std::string& tls_server_name,
           bool allow_insecure_token) {
    wc::ClientOptions o;
    o.streams = streams;
    o.connections = connections;
    o.chunk_bytes = chunk_bytes;
    o.unary_timeout = absl::Seconds(timeout_s);
    o.token = token;
    o.tls = tls;
    o.tls_ca_file = tls_ca;
    o.tls_cert_file = tls_cert;
    o.tls_key_file = tls_key;
    o.tls_server_name = tls_server_name;
    o.allow_insecure_token = allow_insecure_token;
    client_ = Take(wc::Client::Connect(target, o));
    target_ = target;
  }

  const std::string& target() const { return target_; }

  std::vector<wc::ModelSummary> ListModels() const {
    nb::gil_scoped_release unlocked;
    return Take(client_->ListModels());
  }

  wc::ModelInfo GetModel(const std::string& name, const std::string& revision) const {
    nb::gil_scoped_release unlocked;
    return Take(client_->GetModel(name, revision));
  }

  nb::bytes ReadFile(const wc::ModelInfo& model, const std::string& name) const {
    std::string bytes;
    {
      nb::gil_scoped_release unlocked;
      bytes = Take(client_->ReadFile(model, name));
    }
    return nb::bytes(bytes.data(), bytes.size());
  }

  void DownloadExtraFiles(const wc::ModelInfo& model, const std::string& dir) const {
    nb::gil_scoped_release unlocked;
    Check(client_->DownloadExtraFiles(model, dir));
  }

  // Loads `items` (name, selection) of `model` into one block of host memory
  // (device < 0) or of GPU `device`'s memory.
  std::shared_ptr<Table> Load(
      const wc::ModelInfo& model,
      const std::vector<std::pair<std::string, PySelection>>& items,
      int device) const {
    std::vector<wc::TensorSlice> wanted = Wanted(items);
    nb::gil_scoped_release unlocked;
    wc::LoadPlan plan = Take(wc::PlanLoad(model, wanted));
    if (device < 0) {
      return std::make_shared<Table>(
          Take(wc::LoadToHost(*client_, model, plan)), device);
    }
    std::shared_ptr<wc::DeviceCopier> copier =
        Take(wc::OpenCudaCopier(device, wc::DeviceOptions{}));
    return std::make_shared<Table>(
        Take(wc::LoadToDevice(*client_, model, plan, copier)), device);
  }

  // Starts loading `items` in the background (see Load); each output may be
  // used once Pending.wait(i) returned. The Client must outlive it (the
  // binding keeps it alive).
  std::unique_ptr<Pending> StartLoad(
      const wc::ModelInfo& model,
      const std::vector<std::pair<std::string, PySelection>>& items,
      int device) const {
    std::vector<wc::TensorSlice> wanted = Wanted(items);
    if (wanted.empty()) return nullptr;
    auto out = std::make_unique<Pending>();
    nb::gil_scoped_release unlocked;
    std::shared_ptr<wc::DeviceCopier> copier;
    if (device >= 0) copier = Take(wc::OpenCudaCopier(device, wc::DeviceOptions{}));
    out->load = Take(wc::PendingLoad::Start(*client_, model, std::move(wanted),
                                            std::move(copier)));
    out->table = std::make_shared<Table>(out->load->table(), device);
    return out;
  }

 private:
  static std::vector<wc::TensorSlice> Wanted(
      const std::vector<std::pair<std::string, PySelection>>& items) {
    std::vector<wc::TensorSlice> wanted;
    wanted.reserve(items.size());
    for (const auto& [name, sel] : items) wanted.push_back({name, ToSelection(sel)});
    return wanted;
  }

  std::unique_ptr<wc::Client> client_;
  std::string target_;
};

// Output i of `t` as a 1-D uint8 array of framework `Framework` (nb::numpy
// or nb::pytorch) viewing the table's memory. The owner capsule holds a
// reference to the table: the block lives as long as any view of it.
template <typename Framework>
nb::object ArrayOf(std::shared_ptr<Table> t, size_t i) {
  if (i >= t->views.size()) throw nb::index_error("no such output");
  const wc::TensorView& v = t->views[i];
  auto* keep = new std::shared_ptr<Table>(t);
  nb::capsule owner(keep, [](void* p) noexcept {
    delete static_cast<std::shared_ptr<Table>*>(p);
  });
  size_t shape[1] = {static_cast<size_t>(v.size)};
  const bool gpu = t->device >= 0;
  nb::ndarray<Framework, uint8_t, nb::ndim<1>> a(
      v.data, 1, shape, owner, /*strides=*/nullptr, nb::dtype<uint8_t>(),
      gpu ? nb::device::cuda::value : nb::device::cpu::value,
      gpu ? t->device : 0);
  return nb::cast(a, nb::rv_policy::reference);
}

}  // namespace
}  // namespace weightserver::python

NB_MODULE(_core, m) {
  using namespace weightserver::python;
  namespace wc = ::weightserver::client;
  namespace fmt = ::weightserver::format;
  // Tensors a script still holds at exit are freed by torch (or numpy)
  // after this module's teardown, so the Tables they keep alive look leaked
  // to nanobind, which would print a report on every such exit. They are
  // not leaks: the process is ending. (tests/test_api.py checks the exit.)
  nb::set_leak_warnings(false);
  m.doc() = "weightserver._core: the C++ client, bound (use the weightserver package)";

  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const StatusError& e) {
      nb::object make = nb::module_::import_("weightserver._errors").attr("from_status");
      nb::object err = make(absl::StatusCodeToString(e.status.code()),
                            static_cast<int>(e.status.code()),
                            std::string(e.status.message()));
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(err.ptr())), err.ptr());
    }
  });

  nb::class_<fmt::ModelFile>(m, "ModelFile")
      .def_ro("name", &fmt::ModelFile::name)
      .def_ro("size", &fmt::ModelFile::size)
      .def_ro("header_size", &fmt::ModelFile::header_size)
      .def_ro("metadata", &fmt::ModelFile::metadata);
  nb::class_<fmt::ExtraFile>(m, "ExtraFile")
      .def_ro("name", &fmt::ExtraFile::name)
      .def_ro("size", &fmt::ExtraFile::size);
  nb::class_<fmt::ModelTensor>(m, "ModelTensor")
      .def_ro("name", &fmt::ModelTensor::name)
      .def_ro("dtype", &fmt::ModelTensor::dtype)
      .def_ro("shape", &fmt::ModelTensor::shape)
      .def_ro("file_index", &fmt::ModelTensor::file_index)
      .def_ro("offset", &fmt::ModelTensor::offset)
      .def_ro("length", &fmt::ModelTensor::length);
  nb::class_<fmt::ModelInfo>(m, "ModelInfo")
      .def_ro("name", &fmt::ModelInfo::name)
      .def_ro("revision", &fmt::ModelInfo::revision)
      .def_ro("files", &fmt::ModelInfo::files)
      .def_ro("tensors", &fmt::ModelInfo::tensors)
      .def_ro("extra_files", &fmt::ModelInfo::extra_files)
      .def_ro("sharded", &fmt::ModelInfo::sharded)
      .def_ro("index_metadata_json", &fmt::ModelInfo::index_metadata_json);
  nb::class_<fmt::ModelSummary>(m, "ModelSummary")
      .def_ro("name", &fmt::ModelSummary::name)
      .def_ro("revision", &fmt::ModelSummary::revision)
      .def_ro("file_count", &fmt::ModelSummary::file_count)
      .def_ro("tensor_count", &fmt::ModelSummary::tensor_count)
      .def_ro("total_tensor_bytes", &fmt::ModelSummary::total_tensor_bytes)
      .def_ro("error", &fmt::ModelSummary::error);

  nb::class_<Table>(m, "Table")
      .def("__len__", [](const Table& t) { return t.views.size(); })
      .def("name", [](const Table& t, size_t i) { return t.views.at(i).name; })
      .def("dtype", [](const Table& t, size_t i) { return t.views.at(i).dtype; })
      .def("shape", [](const Table& t, size_t i) { return t.views.at(i).shape; })
      .def_prop_ro("total_bytes", [](const Table& t) {
        uint64_t n = 0;
        for (const wc::TensorView& v : t.views) n += v.size;
        return n;
      })
      .def_prop_ro("device", [](const Table& t) { return t.device; })
      .def_static("numpy", &ArrayOf<nb::numpy>, "table"_a, "i"_a,
                  "Output i as a 1-D uint8 numpy array viewing the table's memory.")
      .def_static("torch", &ArrayOf<nb::pytorch>, "table"_a, "i"_a,
                  "Output i as a 1-D uint8 torch tensor viewing the table's memory.");

  nb::class_<Pending>(m, "PendingLoad")
      .def_ro("table", &Pending::table)
      .def("wait", &Pending::Wait, "i"_a,
           "Blocks (GIL released) until output i is in place; raises the "
           "load's error if it failed first.")
      .def("wait_all", &Pending::WaitAll,
           "Blocks until the fetch ended; raises its error.")
      .def("done", [](const Pending& p) { return p.load->done(); })
      .def("cancel", [](Pending& p) { p.load->Cancel(); });

  nb::class_<PyClient>(m, "Client")
      .def(nb::init<const std::string&, int, int, uint32_t, double,
                    const std::string&, bool, const std::string&,
                    const std::string&, const std::string&,
                    const std::string&, bool>(),
           "target"_a, "streams"_a = 4, "connections"_a = 2,
           "chunk_bytes"_a = 1u << 20, "timeout_s"_a = 60.0, "token"_a = "",
           "tls"_a = false, "tls_ca"_a = "", "tls_cert"_a = "",
           "tls_key"_a = "", "tls_server_name"_a = "",
           "allow_insecure_token"_a = false)
      .def_prop_ro("target", &PyClient::target)
      .def("list_models", &PyClient::ListModels)
      .def("get_model", &PyClient::GetModel, "name"_a, "revision"_a = "")
      .def("read_file", &PyClient::ReadFile, "model"_a, "name"_a)
      .def("download_extra_files", &PyClient::DownloadExtraFiles, "model"_a, "dir"_a)
      .def("load", &PyClient::Load, "model"_a, "items"_a, "device"_a = -1)
      .def("start_load", &PyClient::StartLoad, "model"_a, "items"_a,
           "device"_a = -1, nb::keep_alive<0, 1>(),
           "Starts a load in the background: a PendingLoad (None for no items).");

  m.def("tune_malloc", [] {
    weightserver::TuneMallocForStreaming(weightserver::MallocUse::kClient);
  }, "glibc malloc tuned for streaming (process-wide; see weightserver.tune_malloc).");
  m.def("parse_uri", [](const std::string& uri) {
    wc::ModelUri u = Take(wc::ParseModelUri(uri));
    return std::make_tuple(u.target, u.model, u.revision);
  }, "uri"_a);
  m.def("is_uri", [](const std::string& text) { return wc::IsModelUri(text); });
  m.def("parse_device", [](const std::string& text) {
    wc::DeviceSpec d = Take(wc::ParseDevice(text));
    return d.kind == wc::DeviceSpec::Kind::kCuda ? d.index : -1;
  }, "text"_a, "-1 for 'cpu', N for 'cuda' / 'cuda:N'.");
  m.def("shard_dim", [](const std::vector<uint64_t>& shape, int dim, int rank, int world) {
    return FromSelection(Take(wc::ShardDim(shape, dim, rank, world)));
  }, "shape"_a, "dim"_a, "rank"_a, "world"_a);
  m.def("shard_fused", [](const std::vector<uint64_t>& shape, int dim,
                          const std::vector<uint64_t>& blocks, int rank, int world) {
    return FromSelection(Take(wc::ShardFused(shape, dim, blocks, rank, world)));
  }, "shape"_a, "dim"_a, "block_sizes"_a, "rank"_a, "world"_a);
  m.def("measure", [](const wc::ModelInfo& model, const std::string& name,
                      const PySelection& sel) {
    const fmt::ModelTensor* t = model.Find(name);
    if (t == nullptr) Check(absl::NotFoundError("no tensor '" + name + "'"));
    fmt::SliceSummary s = Take(wc::MeasureSelection(*t, ToSelection(sel)));
    return std::make_pair(s.shape, s.byte_size);
  }, "model"_a, "name"_a, "selection"_a);
}
