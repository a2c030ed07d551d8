#include <hiredis/hiredis.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kiq/store/redis.hpp"
#include "store/redis/pool.hpp"

namespace kiq {
namespace {

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

}  // namespace

const RedisReply& RedisReply::check() const {
  if (is_error()) throw StoreError("redis error: " + str);
  return *this;
}

RedisConnection::RedisConnection(RedisPool& pool, std::uint64_t generation, redisContext* context)
    : pool_(pool), generation_(generation), context_(context) {}

RedisConnection::~RedisConnection() {
  if (context_) redisFree(context_);
}

void RedisConnection::fail(const char* what) {
  broken_ = true;
  std::string msg = std::string(what) + ": " +
                    (context_ && context_->err ? context_->errstr : "connection is broken");
  // hiredis reports an expired SO_RCVTIMEO as EAGAIN.
  const bool timed_out = context_ && context_->err == REDIS_ERR_IO &&
                         msg.find("Resource temporarily") != std::string::npos;
  if (timed_out) msg = std::string(what) + ": command timed out";
  // A dead socket on a connection that served before may just be a restart while it idled:
  // not an outage by itself (RedisPool::run retries once; a failing reconnect starts one).
  pool_.report_failure(msg, timed_out || !used_before_);
  throw RedisTransportError("redis " + pool_.url().describe() + ": " + msg, timed_out);
}

void RedisConnection::append_argv(int argc, const char** argv, const std::size_t* lens) {
  if (broken_) fail("cannot send");
  if (redisAppendCommandArgv(context_, argc, argv, lens) != REDIS_OK) fail("cannot send");
  ++pending_;
}

namespace {
// hiredis wants parallel arrays of pointers and lengths; any range of string-likes gives them.
template <class Range, class AppendArgv>
void append_range(const Range& argv, AppendArgv&& append_argv) {
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  append_argv(static_cast<int>(argv.size()), ptrs.data(), lens.data());
}
}  // namespace

void RedisConnection::append(std::span<const std::string> argv) {
  append_range(argv, [this](int n, const char** p, const std::size_t* l) { append_argv(n, p, l); });
}

void RedisConnection::append(std::initializer_list<std::string_view> argv) {
  append_range(argv, [this](int n, const char** p, const std::size_t* l) { append_argv(n, p, l); });
}

void RedisConnection::send_formatted(std::string_view resp, std::size_t commands) {
  if (broken_) fail("cannot send");
  for (int done = 0; !done;) {  // what was appended before goes first
    if (redisBufferWrite(context_, &done) == REDIS_ERR) fail("cannot send");
  }
  while (!resp.empty()) {
    // MSG_NOSIGNAL: a closed socket is an error here, not a SIGPIPE for the process.
    const ssize_t n = ::send(context_->fd, resp.data(), resp.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      // As hiredis records its own I/O errors, so fail() tells a timeout (EAGAIN) apart.
      context_->err = REDIS_ERR_IO;
      std::snprintf(context_->errstr, sizeof(context_->errstr), "%s", std::strerror(errno));
      fail("cannot send");
    }
    resp.remove_prefix(static_cast<std::size_t>(n));
  }
  pending_ += commands;
}

RedisReply RedisConnection::read_reply() {
  if (broken_) fail("cannot read");
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) fail("connection lost");
  if (pending_ > 0) --pending_;
  if (!answered_) {
    answered_ = true;
    pool_.note_connected();
  }
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(static_cast<redisReply*>(raw),
                                                                &freeReplyObject);
  return convert(reply.get());
}

RedisReply RedisConnection::command(std::initializer_list<std::string_view> argv) {
  append(argv);
  return read_reply();
}

RedisReply RedisConnection::command(std::span<const std::string> argv) {
  append(argv);
  return read_reply();
}

std::vector<RedisReply> RedisConnection::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  for (const auto& c : commands) append(c);
  std::vector<RedisReply> out;
  out.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) out.push_back(read_reply());
  return out;
}

}  // namespace kiq
