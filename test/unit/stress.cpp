// Randomised cancellation stress: a million operations over files, TCP, UDP, Unix stream and
// datagram sockets, timers and buffer-ring receives, each possibly cancelled at a random moment
// (before submission, in flight, racing the completion) by every means a user has: a slot
// (partial / total / terminal), cancel(), close(), destroying the object. Every owned buffer is
// a tracked_buffer (destroyed while its SQE may still use it, destroyed twice or leaked: the
// test fails); every handler must run exactly once; every byte a stream delivers must be the
// next byte its peer sent (cancellation loses or duplicates nothing).
//
// ASIO_URING_STRESS_SEED fixes the random choices (the kernel's timing still varies, so a
// failure reproduces by running the seed again, usually at once); ASIO_URING_STRESS_OPS sets
// the number of operations (default 1,000,000).
#include "fixtures.hpp"
#include "socket_fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <unordered_set>
#include <vector>

namespace asio = boost::asio;
using asio_uring::test::tracked_buffer;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {

enum op_kind { file_op, tcp_op, udp_op, unix_stream_op, unix_dgram_op, timer_op, ring_op, kinds };
const char* const kind_names[] = {
    "file", "tcp", "udp", "unix stream", "unix dgram", "timer", "buffer-ring recv"};
enum cancel_way {
  none,
  slot_before_submit,
  slot_in_flight,
  slot_racing,
  object_cancel,
  object_close,
  object_destroy,
  ways
};
const char* const way_names[] = {"none",           "slot before submission",
                                 "slot in flight", "slot racing completion",
                                 "cancel()",       "close()",
                                 "destroyed"};

// Byte `i` of every stream; a read checks it got exactly the next bytes.
std::byte pattern(std::uint64_t i) {
  return static_cast<std::byte>((i ^ (i >> 8) ^ (i >> 19)) * 131u);
}

struct stress;

// One chain of operations, one at a time (a reader, a writer, a timer...).
struct flow {
  asio::cancellation_signal sig;
  std::uint64_t current = 0; // id of the op in flight, 0 when idle
};

// Deferred cancellation: emitted after `countdown` more completions, if the op still runs.
struct deferred_cancel {
  flow* f;
  std::uint64_t id;
  asio::cancellation_type type;
  int countdown;
};

struct stress {
  stress(asio_uring::io_context& c, std::uint64_t seed, std::uint64_t n)
      : ctx(c), rng(seed), target(n) {}
  asio_uring::io_context& ctx;
  std::mt19937_64 rng;
  std::uint64_t target;
  std::uint64_t started = 0, completed = 0, next_id = 1;
  std::uint64_t per_kind[kinds] = {}, per_way[ways] = {};
  std::uint64_t aborted = 0, bytes_checked = 0, restarts = 0;
  long double_invocations = 0, destroyed_uninvoked = 0, data_errors = 0, early_timers = 0;
  std::unordered_set<std::uint64_t> outstanding;
  std::vector<deferred_cancel> deferred;
  bool stopping = false;

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  bool chance(int percent) { return pick(100) < percent; }
  bool more() const { return !stopping && started < target; }
  asio::cancellation_type any_type() {
    static constexpr asio::cancellation_type t[] = {asio::cancellation_type::partial,
                                                    asio::cancellation_type::total,
                                                    asio::cancellation_type::terminal};
    return t[pick(3)];
  }

  std::uint64_t begin(flow& f, op_kind k) {
    ++started;
    ++per_kind[k];
    std::uint64_t id = next_id++;
    outstanding.insert(id);
    f.current = id;
    return id;
  }

  // After the initiation: maybe cancel through the op's slot, now or later.
  void maybe_cancel_slot(flow& f, std::uint64_t id) {
    int r = pick(100);
    if (r < 12) { // before submission: the SQE is prepared, not yet in the kernel
      ++per_way[slot_before_submit];
      f.sig.emit(any_type());
    } else if (r < 30) {
      ++per_way[slot_in_flight];
      deferred.push_back({&f, id, any_type(), 1 + pick(8)});
    } else if (r < 40) {
      ++per_way[slot_racing];
      deferred.push_back({&f, id, any_type(), 0});
    } else {
      ++per_way[none];
    }
  }

  void on_complete(std::uint64_t id, flow& f) {
    if (outstanding.erase(id) != 1)
      ++double_invocations;
    ++completed;
    if (f.current == id)
      f.current = 0;
    // Deferred cancels whose moment has come (in order, so the choice of moment is random).
    for (std::size_t i = 0; i < deferred.size();) {
      deferred_cancel& d = deferred[i];
      if (d.countdown-- > 0) {
        ++i;
        continue;
      }
      deferred_cancel fire = d;
      deferred[i] = deferred.back();
      deferred.pop_back();
      if (fire.f->current == fire.id)
        fire.f->sig.emit(fire.type);
    }
  }
};

// The completion handler: counts itself, runs `body`, and reports if destroyed unrun.
template <class Body>
class checked {
public:
  checked(stress& s, flow& f, std::uint64_t id, Body body)
      : s_(&s), f_(&f), id_(id), body_(std::move(body)) {}
  checked(checked&& o) noexcept
      : s_(o.s_), f_(o.f_), id_(o.id_), body_(std::move(o.body_)),
        armed_(std::exchange(o.armed_, false)) {}
  ~checked() {
    if (armed_ && !ran_)
      ++s_->destroyed_uninvoked;
  }
  template <class... Args>
  void operator()(Args&&... args) {
    if (ran_)
      ++s_->double_invocations;
    ran_ = true;
    s_->on_complete(id_, *f_);
    body_(std::forward<Args>(args)...);
  }

private:
  stress* s_;
  flow* f_;
  std::uint64_t id_;
  Body body_;
  bool armed_ = true, ran_ = false;
};

template <class Body>
auto token(stress& s, flow& f, std::uint64_t id, Body body) {
  return asio::bind_cancellation_slot(f.sig.slot(), checked<Body>(s, f, id, std::move(body)));
}

// A lane owns its objects and one or two flows; it restarts (new objects) after close/destroy.
class lane {
public:
  explicit lane(stress& s) : s_(s) {}
  virtual ~lane() = default;
  virtual void start() = 0;
  virtual void close_all() = 0; // the end of the run: pending ops complete aborted

protected:
  // Object-level cancellation, now and then: cancel(), close() or destruction (then reopen).
  // Returns the way chosen (none most of the time).
  cancel_way object_event() {
    int r = s_.pick(1000);
    cancel_way w = r < 15 ? object_cancel : r < 25 ? object_close : r < 32 ? object_destroy : none;
    if (w != none)
      ++s_.per_way[w];
    return w;
  }
  stress& s_;
};

// Two connected sockets: `a_` receives (flow `in_`), `b_` sends (flow `out_`). After a close or
// destruction, once both flows are idle, a new pair and both flows again.
void connect_sockets(asio_uring::io_context& ctx, asio_uring::ip::tcp::socket& a,
                     asio_uring::ip::tcp::socket& b) {
  auto [x, y] = asio_uring::test::connected_pair(ctx);
  a = std::move(x);
  b = std::move(y);
}
void connect_sockets(asio_uring::io_context&, asio_uring::ip::udp::socket& a,
                     asio_uring::ip::udp::socket& b) {
  using asio_uring::ip::udp;
  udp::endpoint lo(asio::ip::address_v4::loopback(), 0);
  a.open(udp::v4());
  a.bind(lo);
  b.open(udp::v4());
  b.bind(lo);
  a.connect(b.local_endpoint());
  b.connect(a.local_endpoint());
}
template <class Socket>
void connect_sockets(asio_uring::io_context&, Socket& a, Socket& b) {
  asio_uring::local::connect_pair(a, b);
}

template <class Socket>
class socket_pair_lane : public lane {
public:
  socket_pair_lane(stress& s, op_kind k) : lane(s), kind_(k) {}
  void start() override {
    open();
    in_next();
    out_next();
  }
  void close_all() override {
    if (a_)
      a_->close();
    if (b_)
      b_->close();
  }

protected:
  virtual void in_next() = 0;
  virtual void out_next() = 0;
  virtual void on_open() = 0; // a new pair: the per-connection state starts again

  void open() {
    a_.emplace(s_.ctx);
    b_.emplace(s_.ctx);
    connect_sockets(s_.ctx, *a_, *b_);
    on_open();
    ++generation_;
    ++s_.restarts;
  }
  void maybe_reopen() {
    if (in_.current || out_.current || !s_.more())
      return;
    start();
  }
  // cancel() on one end, or close / destroy both: true if the pair is gone.
  bool disrupt() {
    switch (object_event()) {
    case object_cancel:
      (s_.chance(50) ? *a_ : *b_).cancel();
      return false;
    case object_close:
      a_->close();
      b_->close();
      return true;
    case object_destroy:
      a_.reset();
      b_.reset();
      return true;
    default:
      return false;
    }
  }
  bool usable() const { return a_ && b_ && a_->is_open() && b_->is_open(); }

  op_kind kind_;
  std::optional<Socket> a_, b_;
  flow in_, out_;
  std::uint64_t generation_ = 0;
};

// ---- streams: TCP, Unix, TCP with buffer-ring receives -------------------------------------

template <class Socket>
class stream_lane final : public socket_pair_lane<Socket> {
  using base = socket_pair_lane<Socket>;
  using base::a_, base::b_, base::s_, base::kind_, base::generation_, base::usable,
      base::maybe_reopen, base::disrupt, base::in_, base::out_;

public:
  stream_lane(stress& s, op_kind k, asio_uring::buffer_ring* ring) : base(s, k), ring_(ring) {}

private:
  void on_open() override { read_off_ = write_off_ = 0; }
  void in_next() override { read_next(); }
  void out_next() override { write_next(); }

  void check(const std::byte* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      if (p[i] != pattern(read_off_ + i)) {
        ++s_.data_errors;
        break;
      }
    read_off_ += n;
    s_.bytes_checked += n;
  }

  void after_read(std::uint64_t gen, const error_code& ec) {
    if (ec && ec != asio::error::operation_aborted && gen == generation_ && usable() &&
        ec != asio::error::eof)
      ++s_.data_errors; // a live connection must not fail
    if (ec == asio::error::operation_aborted)
      ++s_.aborted;
    if (gen == generation_ && usable() && ec != asio::error::eof)
      read_next();
    else
      maybe_reopen();
  }

  void read_next() {
    if (!s_.more() || !usable())
      return maybe_reopen();
    std::uint64_t id = s_.begin(in_, kind_);
    std::uint64_t gen = generation_;
    if (ring_) {
      a_->async_receive(*ring_,
                        token(s_, in_, id, [this, gen](error_code ec, asio_uring::ring_buffer b) {
                          if (!ec && gen == generation_)
                            check(b.data(), b.size());
                          after_read(gen, ec);
                        }));
    } else if (s_.chance(60)) {
      a_->async_read_some(
          tracked_buffer(1 + static_cast<std::size_t>(s_.pick(2048))),
          token(s_, in_, id, [this, gen](error_code ec, std::size_t n, tracked_buffer b) {
            if (b.empty())
              ++s_.data_errors; // sockets never orphan: the buffer always comes back
            if (!ec && gen == generation_)
              check(b.data(), n);
            after_read(gen, ec);
          }));
    } else {
      std::size_t n = 1 + static_cast<std::size_t>(s_.pick(static_cast<int>(rbuf_.size())));
      a_->async_read_some(asio::buffer(rbuf_.data(), n),
                          token(s_, in_, id, [this, gen](error_code ec, std::size_t got) {
                            if (!ec && gen == generation_)
                              check(rbuf_.data(), got);
                            after_read(gen, ec);
                          }));
    }
    s_.maybe_cancel_slot(in_, id);
    if (disrupt())
      return;
  }

  void after_write(std::uint64_t gen, const error_code& ec, std::size_t n) {
    if (ec == asio::error::operation_aborted)
      ++s_.aborted;
    if (gen == generation_)
      write_off_ += n;
    if (gen == generation_ && usable() && (!ec || ec == asio::error::operation_aborted))
      write_next();
    else
      maybe_reopen();
  }

  void write_next() {
    if (!s_.more() || !usable())
      return maybe_reopen();
    std::uint64_t id = s_.begin(out_, kind_);
    std::uint64_t gen = generation_;
    std::size_t n = 1 + static_cast<std::size_t>(s_.pick(1500));
    int how = s_.pick(10);
    if (how < 5 || (how < 7 && !std::is_same_v<Socket, asio_uring::ip::tcp::socket>)) {
      tracked_buffer b(n);
      for (std::size_t i = 0; i < n; ++i)
        b.data()[i] = pattern(write_off_ + i);
      b_->async_write_some(
          std::move(b),
          token(s_, out_, id, [this, gen](error_code ec, std::size_t m, tracked_buffer back) {
            if (back.empty())
              ++s_.data_errors;
            after_write(gen, ec, m);
          }));
    } else if (how < 7) {
      tracked_buffer b(n);
      for (std::size_t i = 0; i < n; ++i)
        b.data()[i] = pattern(write_off_ + i);
      b_->async_send_zc(
          std::move(b),
          token(s_, out_, id, [this, gen](error_code ec, std::size_t m, tracked_buffer back) {
            if (back.empty())
              ++s_.data_errors;
            after_write(gen, ec, m);
          }));
    } else {
      n = std::min(n, wbuf_.size());
      for (std::size_t i = 0; i < n; ++i)
        wbuf_[i] = pattern(write_off_ + i);
      b_->async_write_some(asio::buffer(wbuf_.data(), n),
                           token(s_, out_, id, [this, gen](error_code ec, std::size_t m) {
                             after_write(gen, ec, m);
                           }));
    }
    s_.maybe_cancel_slot(out_, id);
    disrupt();
  }

  asio_uring::buffer_ring* ring_;
  std::uint64_t read_off_ = 0, write_off_ = 0;
  std::array<std::byte, 2048> rbuf_{};
  std::array<std::byte, 2048> wbuf_{};
};

// ---- datagrams: UDP and Unix datagram sockets ------------------------------------------------

template <class Socket>
class datagram_lane final : public socket_pair_lane<Socket> {
  using base = socket_pair_lane<Socket>;
  using base::a_, base::b_, base::s_, base::kind_, base::generation_, base::usable,
      base::maybe_reopen, base::disrupt, base::in_, base::out_;

public:
  using base::base;

private:
  void on_open() override { last_seq_ = 0; }
  void in_next() override { receive_next(); }
  void out_next() override { send_next(); }

  // A datagram: 8-byte sequence number, then the pattern from that number.
  void check(const std::byte* p, std::size_t n) {
    std::uint64_t seq = 0;
    if (n < sizeof seq) {
      ++s_.data_errors;
      return;
    }
    std::memcpy(&seq, p, sizeof seq);
    if (seq <= last_seq_) // datagrams may be dropped, never duplicated or reordered
      ++s_.data_errors;
    last_seq_ = seq;
    for (std::size_t i = sizeof seq; i < n; ++i)
      if (p[i] != pattern(seq + i)) {
        ++s_.data_errors;
        break;
      }
    s_.bytes_checked += n;
  }

  void after(std::uint64_t gen, const error_code& ec, bool receiving) {
    if (ec == asio::error::operation_aborted)
      ++s_.aborted;
    if (gen == generation_ && usable())
      receiving ? receive_next() : send_next();
    else
      maybe_reopen();
  }

  void receive_next() {
    if (!s_.more() || !usable())
      return maybe_reopen();
    std::uint64_t id = s_.begin(in_, kind_);
    std::uint64_t gen = generation_;
    if (s_.chance(60)) {
      a_->async_receive(
          tracked_buffer(2048),
          token(s_, in_, id, [this, gen](error_code ec, std::size_t n, tracked_buffer b) {
            if (!ec && gen == generation_)
              check(b.data(), n);
            after(gen, ec, true);
          }));
    } else {
      a_->async_receive(asio::buffer(rbuf_),
                        token(s_, in_, id, [this, gen](error_code ec, std::size_t n) {
                          if (!ec && gen == generation_)
                            check(rbuf_.data(), n);
                          after(gen, ec, true);
                        }));
    }
    s_.maybe_cancel_slot(in_, id);
    disrupt();
  }

  void send_next() {
    if (!s_.more() || !usable())
      return maybe_reopen();
    std::uint64_t id = s_.begin(out_, kind_);
    std::uint64_t gen = generation_;
    std::size_t n = 8 + static_cast<std::size_t>(s_.pick(512));
    tracked_buffer b(n);
    std::uint64_t seq = ++send_seq_;
    std::memcpy(b.data(), &seq, sizeof seq);
    for (std::size_t i = sizeof seq; i < n; ++i)
      b.data()[i] = pattern(seq + i);
    b_->async_send(std::move(b),
                   token(s_, out_, id, [this, gen](error_code ec, std::size_t, tracked_buffer) {
                     after(gen, ec, false);
                   }));
    s_.maybe_cancel_slot(out_, id);
    disrupt();
  }

  std::uint64_t last_seq_ = 0, send_seq_ = 0;
  std::array<std::byte, 2048> rbuf_{};
};

// ---- files -----------------------------------------------------------------------------------

class file_lane final : public lane {
public:
  static constexpr std::uint64_t file_size = 1 << 20;
  file_lane(stress& s, std::string path) : lane(s), path_(std::move(path)) {}
  void start() override {
    open();
    next();
  }
  void close_all() override {
    if (f_)
      f_->close();
  }

private:
  void open() {
    f_.emplace(s_.ctx, path_, asio_uring::file_base::read_write);
    ++s_.restarts;
  }
  void next() {
    if (!s_.more())
      return;
    if (!f_ || !f_->is_open())
      open();
    std::uint64_t id = s_.begin(flow_, file_op);
    std::uint64_t off = static_cast<std::uint64_t>(s_.pick(file_size - 1));
    std::size_t n = 1 + static_cast<std::size_t>(s_.pick(4096));
    auto done = [this](const error_code& ec) {
      if (ec == asio::error::operation_aborted)
        ++s_.aborted;
      else if (ec && ec != asio::error::eof && ec != asio::error::bad_descriptor)
        ++s_.data_errors;
      next();
    };
    int how = s_.pick(3);
    if (how == 0) { // the file holds the pattern everywhere: every read sees it
      f_->async_read_some_at(
          off, tracked_buffer(n),
          token(s_, flow_, id, [this, off, done](error_code ec, std::size_t m, tracked_buffer b) {
            if (!ec)
              check(off, b.data(), m);
            done(ec);
          }));
    } else if (how == 1) {
      f_->async_read_some_at(off, asio::buffer(buf_.data(), std::min(n, buf_.size())),
                             token(s_, flow_, id, [this, off, done](error_code ec, std::size_t m) {
                               if (!ec)
                                 check(off, buf_.data(), m);
                               done(ec);
                             }));
    } else { // writes the pattern again: concurrent readers still see it
      n = std::min<std::size_t>(n, file_size - off);
      tracked_buffer b(n);
      for (std::size_t i = 0; i < n; ++i)
        b.data()[i] = pattern(off + i);
      f_->async_write_some_at(
          off, std::move(b),
          token(s_, flow_, id, [done](error_code ec, std::size_t, tracked_buffer) { done(ec); }));
    }
    s_.maybe_cancel_slot(flow_, id);
    switch (object_event()) {
    case object_cancel:
      f_->cancel();
      break;
    case object_close:
      f_->close();
      break;
    case object_destroy:
      f_.reset();
      break;
    default:
      break;
    }
  }
  void check(std::uint64_t off, const std::byte* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      if (p[i] != pattern(off + i)) {
        ++s_.data_errors;
        break;
      }
    s_.bytes_checked += n;
  }

  std::string path_;
  std::optional<asio_uring::random_access_file> f_;
  flow flow_;
  std::array<std::byte, 4096> buf_{};
};

// ---- timers ----------------------------------------------------------------------------------

class timer_lane final : public lane {
public:
  using lane::lane;
  void start() override { next(); }
  void close_all() override {
    if (t_)
      t_->cancel();
  }

private:
  void next() {
    if (!s_.more())
      return;
    if (!t_)
      t_.emplace(s_.ctx);
    std::uint64_t id = s_.begin(flow_, timer_op);
    auto expiry = std::chrono::steady_clock::now() + std::chrono::microseconds(s_.pick(300));
    t_->expires_at(expiry);
    t_->async_wait(token(s_, flow_, id, [this, expiry](error_code ec) {
      if (!ec && std::chrono::steady_clock::now() < expiry)
        ++s_.early_timers;
      if (ec == asio::error::operation_aborted)
        ++s_.aborted;
      next();
    }));
    s_.maybe_cancel_slot(flow_, id);
    switch (object_event()) {
    case object_cancel:
    case object_close:
      t_->cancel();
      break;
    case object_destroy:
      t_.reset();
      break;
    default:
      break;
    }
  }
  std::optional<asio_uring::steady_timer> t_;
  flow flow_;
};

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  if (const char* s = std::getenv(name))
    return std::strtoull(s, nullptr, 0);
  return fallback;
}

struct temp_pattern_file {
  std::string path;
  temp_pattern_file() {
    char p[] = "/tmp/asio_uring_stress_XXXXXX";
    int fd = ::mkstemp(p);
    BOOST_TEST_REQUIRE(fd >= 0);
    path = p;
    std::vector<std::byte> data(file_lane::file_size);
    for (std::size_t i = 0; i < data.size(); ++i)
      data[i] = pattern(i);
    BOOST_TEST_REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    ::close(fd);
  }
  ~temp_pattern_file() { ::unlink(path.c_str()); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(stress_tests)

BOOST_FIXTURE_TEST_CASE(randomised_cancellation_over_every_op_kind,
                        asio_uring::test::tracked_fixture) {
  const std::uint64_t seed = env_or("ASIO_URING_STRESS_SEED", 20261124);
  const std::uint64_t target = env_or("ASIO_URING_STRESS_OPS", 1'000'000);
  BOOST_TEST_MESSAGE("stress: seed " << seed << " (ASIO_URING_STRESS_SEED), " << target
                                     << " operations (ASIO_URING_STRESS_OPS)");
  temp_pattern_file file;
  auto t0 = std::chrono::steady_clock::now();
  auto ctx = std::make_unique<asio_uring::io_context>();
  stress s(*ctx, seed, target);
  asio_uring::buffer_ring ring(*ctx, 64, 4096);
  {
    std::vector<std::unique_ptr<lane>> lanes;
    for (int i = 0; i < 4; ++i) {
      lanes.push_back(std::make_unique<file_lane>(s, file.path));
      lanes.push_back(
          std::make_unique<stream_lane<asio_uring::ip::tcp::socket>>(s, tcp_op, nullptr));
      lanes.push_back(std::make_unique<stream_lane<asio_uring::local::stream_protocol::socket>>(
          s, unix_stream_op, nullptr));
      lanes.push_back(
          std::make_unique<stream_lane<asio_uring::ip::tcp::socket>>(s, ring_op, &ring));
      lanes.push_back(std::make_unique<datagram_lane<asio_uring::ip::udp::socket>>(s, udp_op));
      lanes.push_back(std::make_unique<datagram_lane<asio_uring::local::datagram_protocol::socket>>(
          s, unix_dgram_op));
      lanes.push_back(std::make_unique<timer_lane>(s));
      lanes.push_back(std::make_unique<timer_lane>(s));
    }
    asio::post(*ctx, [&] {
      for (auto& l : lanes)
        l->start();
    });
    // Run until the target is reached, then close every lane: what still waits ends aborted.
    auto limit = std::chrono::steady_clock::now() + 240s;
    while (s.started < target && std::chrono::steady_clock::now() < limit) {
      ctx->run_for(100ms);
      if (ctx->stopped())
        break;
    }
    s.stopping = true;
    for (auto& l : lanes)
      l->close_all();
    ctx->restart();
    ctx->run_for(20s);
    BOOST_TEST(ctx->stopped(), "work left after every lane was closed");
    lanes.clear();
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ostringstream kinds_line, ways_line;
  for (int k = 0; k < kinds; ++k)
    kinds_line << kind_names[k] << " " << s.per_kind[k] << (k + 1 < kinds ? ", " : "");
  for (int w = 0; w < ways; ++w)
    ways_line << way_names[w] << " " << s.per_way[w] << (w + 1 < ways ? ", " : "");
  BOOST_TEST_MESSAGE("stress: " << s.started << " ops in " << secs << " s ("
                                << static_cast<long>(s.started / secs) << "/s), " << s.aborted
                                << " aborted, " << s.bytes_checked << " bytes checked, "
                                << s.restarts << " objects opened");
  BOOST_TEST_MESSAGE("stress: by kind: " << kinds_line.str());
  BOOST_TEST_MESSAGE("stress: cancellation: " << ways_line.str());
  BOOST_TEST(s.started >= target, "only " << s.started << " ops in the time limit");
  BOOST_TEST(s.completed == s.started);
  BOOST_TEST(s.outstanding.empty());
  BOOST_TEST(s.double_invocations == 0);
  BOOST_TEST(s.destroyed_uninvoked == 0);
  BOOST_TEST(s.data_errors == 0);
  BOOST_TEST(s.early_timers == 0);
  for (int k = 0; k < kinds; ++k)
    BOOST_TEST(s.per_kind[k] > 0u, kind_names[k] << " ops ran");
  ctx.reset();
  BOOST_TEST(ring.in_use() == 0u); // every buffer the kernel filled went back to the ring
}

BOOST_AUTO_TEST_SUITE_END()
