// libpq, loaded when first needed (dlopen) instead of linked. Linked normally, it and the
// libraries it pulls in (OpenSSL, GnuTLS, Kerberos, LDAP, ...: 22 of the binary's 28) took ~22 ms
// of CPU at every start of `runbook`, most of `--version` and 15% of `plan` for 10k steps, which
// never connect. Every libpq call of the program goes through Pq().
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>

namespace runbook {

struct LibPq {
  decltype(&::PQbackendPID) PQbackendPID;
  decltype(&::PQcancel) PQcancel;
  decltype(&::PQclear) PQclear;
  decltype(&::PQcmdStatus) PQcmdStatus;
  decltype(&::PQcmdTuples) PQcmdTuples;
  decltype(&::PQconnectdbParams) PQconnectdbParams;
  decltype(&::PQconsumeInput) PQconsumeInput;
  decltype(&::PQerrorMessage) PQerrorMessage;
  decltype(&::PQescapeIdentifier) PQescapeIdentifier;
  decltype(&::PQescapeLiteral) PQescapeLiteral;
  decltype(&::PQfinish) PQfinish;
  decltype(&::PQfname) PQfname;
  decltype(&::PQfreeCancel) PQfreeCancel;
  decltype(&::PQfreemem) PQfreemem;
  decltype(&::PQftype) PQftype;
  decltype(&::PQgetCancel) PQgetCancel;
  decltype(&::PQgetCopyData) PQgetCopyData;
  decltype(&::PQgetResult) PQgetResult;
  decltype(&::PQgetisnull) PQgetisnull;
  decltype(&::PQgetlength) PQgetlength;
  decltype(&::PQgetvalue) PQgetvalue;
  decltype(&::PQisBusy) PQisBusy;
  decltype(&::PQnfields) PQnfields;
  decltype(&::PQntuples) PQntuples;
  decltype(&::PQputCopyData) PQputCopyData;
  decltype(&::PQputCopyEnd) PQputCopyEnd;
  decltype(&::PQresultErrorField) PQresultErrorField;
  decltype(&::PQresultErrorMessage) PQresultErrorMessage;
  decltype(&::PQresultStatus) PQresultStatus;
  decltype(&::PQsendQuery) PQsendQuery;
  decltype(&::PQsendQueryParams) PQsendQueryParams;
  decltype(&::PQsetNoticeReceiver) PQsetNoticeReceiver;
  decltype(&::PQsocket) PQsocket;
  decltype(&::PQstatus) PQstatus;
  decltype(&::PQtransactionStatus) PQtransactionStatus;
};

// The loaded functions, or nullptr when libpq cannot be loaded (`error` says why). The first
// call loads.
const LibPq* LoadLibPq(std::string* error);

// REQUIRES: LoadLibPq succeeded (every libpq object comes from a connection it made).
const LibPq& Pq();

struct PgResultDeleter {
  void operator()(PGresult* r) const { Pq().PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

}  // namespace runbook
