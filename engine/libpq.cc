#include "engine/libpq.h"

#include <dlfcn.h>

#include <type_traits>

namespace runbook {

const LibPq* LoadLibPq(std::string* error) {
  static std::string load_error;
  static const LibPq* const api = []() -> const LibPq* {
    void* lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = dlerror();
      load_error = e ? e : "libpq.so.5: cannot load";
      return nullptr;
    }
    static LibPq loaded;
    bool ok = true;
    auto Load = [&](auto* fn, const char* name) {
      void* sym = dlsym(lib, name);
      if (sym == nullptr) ok = false;
      *fn = reinterpret_cast<std::remove_pointer_t<decltype(fn)>>(sym);
    };
    Load(&loaded.PQbackendPID, "PQbackendPID");
    Load(&loaded.PQcancel, "PQcancel");
    Load(&loaded.PQclear, "PQclear");
    Load(&loaded.PQcmdStatus, "PQcmdStatus");
    Load(&loaded.PQcmdTuples, "PQcmdTuples");
    Load(&loaded.PQconnectdbParams, "PQconnectdbParams");
    Load(&loaded.PQconsumeInput, "PQconsumeInput");
    Load(&loaded.PQerrorMessage, "PQerrorMessage");
    Load(&loaded.PQescapeIdentifier, "PQescapeIdentifier");
    Load(&loaded.PQescapeLiteral, "PQescapeLiteral");
    Load(&loaded.PQfinish, "PQfinish");
    Load(&loaded.PQfname, "PQfname");
    Load(&loaded.PQfreeCancel, "PQfreeCancel");
    Load(&loaded.PQfreemem, "PQfreemem");
    Load(&loaded.PQftype, "PQftype");
    Load(&loaded.PQgetCancel, "PQgetCancel");
    Load(&loaded.PQgetCopyData, "PQgetCopyData");
    Load(&loaded.PQgetResult, "PQgetResult");
    Load(&loaded.PQgetisnull, "PQgetisnull");
    Load(&loaded.PQgetlength, "PQgetlength");
    Load(&loaded.PQgetvalue, "PQgetvalue");
    Load(&loaded.PQisBusy, "PQisBusy");
    Load(&loaded.PQnfields, "PQnfields");
    Load(&loaded.PQntuples, "PQntuples");
    Load(&loaded.PQputCopyData, "PQputCopyData");
    Load(&loaded.PQputCopyEnd, "PQputCopyEnd");
    Load(&loaded.PQresultErrorField, "PQresultErrorField");
    Load(&loaded.PQresultErrorMessage, "PQresultErrorMessage");
    Load(&loaded.PQresultStatus, "PQresultStatus");
    Load(&loaded.PQsendQuery, "PQsendQuery");
    Load(&loaded.PQsendQueryParams, "PQsendQueryParams");
    Load(&loaded.PQsetNoticeReceiver, "PQsetNoticeReceiver");
    Load(&loaded.PQsocket, "PQsocket");
    Load(&loaded.PQstatus, "PQstatus");
    Load(&loaded.PQtransactionStatus, "PQtransactionStatus");
    if (!ok) {
      load_error = "libpq.so.5 lacks functions this program needs (an older libpq?)";
      return nullptr;
    }
    return &loaded;
  }();
  if (api == nullptr && error != nullptr) *error = load_error;
  return api;
}

const LibPq& Pq() {
  return *LoadLibPq(nullptr);
}

}  // namespace runbook
