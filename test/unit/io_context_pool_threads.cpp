// io_context_pool: one thread per context, round robin, stop/join, exceptions, and acceptors
// sharing a port with SO_REUSEPORT (one per context).
#include "fixtures.hpp"

#include <asio_uring/io_context_pool.hpp>
#include <asio_uring/ip/tcp.hpp>
#include <asio_uring/socket_base.hpp>

#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio_uring::ip::tcp;

BOOST_AUTO_TEST_SUITE(io_context_pool_threads_tests)

BOOST_AUTO_TEST_CASE(one_thread_per_context_round_robin) {
  asio_uring::io_context_pool pool(3);
  BOOST_TEST(pool.size() == 3u);
  std::set<asio_uring::io_context*> handed_out;
  for (int i = 0; i < 6; ++i)
    handed_out.insert(&pool.get_io_context());
  BOOST_TEST(handed_out.size() == 3u);

  std::mutex m;
  std::set<std::thread::id> threads;
  std::atomic<int> ran{0}, elsewhere{0}; // Boost.Test's checks are for the main thread only
  pool.run();
  for (std::size_t i = 0; i < pool.size(); ++i)
    for (int k = 0; k < 100; ++k)
      asio::post(pool[i], [&, i] {
        if (!pool[i].get_executor().running_in_this_thread())
          ++elsewhere;
        std::lock_guard<std::mutex> lock(m);
        threads.insert(std::this_thread::get_id());
        ++ran;
      });
  // The threads keep running without work; the posted handlers all run.
  for (int i = 0; i < 1000 && ran < 300; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  pool.stop();
  pool.join();
  BOOST_TEST(ran == 300);
  BOOST_TEST(elsewhere == 0);
  BOOST_TEST(threads.size() == 3u);
  BOOST_TEST(threads.count(std::this_thread::get_id()) == 0u);
}

BOOST_AUTO_TEST_CASE(exception_from_a_handler_reaches_join) {
  asio_uring::io_context_pool pool(2);
  pool.run();
  asio::post(pool[1], [] { throw std::runtime_error("handler failed"); });
  BOOST_CHECK_EXCEPTION(pool.join(), std::runtime_error, [](const std::runtime_error& e) {
    return std::string(e.what()) == "handler failed";
  });
  // Usable again after join.
  std::atomic<bool> ran{false};
  pool.run();
  asio::post(pool[0], [&] { ran = true; });
  for (int i = 0; i < 1000 && !ran; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  pool.stop();
  pool.join();
  BOOST_TEST(ran.load());
}

BOOST_AUTO_TEST_CASE(reuse_port_acceptors_share_connections) {
  asio_uring::io_context_pool pool(2);
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  unsigned short port = 0;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    auto a = std::make_unique<tcp::acceptor>(pool[i]);
    a->open(tcp::v4());
    a->set_option(asio_uring::socket_base::reuse_port(true));
    a->bind(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    a->listen();
    port = a->local_endpoint().port();
    acceptors.push_back(std::move(a));
  }
  constexpr int clients = 64;
  std::atomic<int> accepted{0};
  std::vector<std::atomic<int>> per_context(pool.size());
  std::vector<std::vector<tcp::socket>> kept(pool.size());
  for (std::size_t i = 0; i < pool.size(); ++i) {
    struct loop {
      tcp::acceptor* a;
      std::atomic<int>* accepted;
      std::atomic<int>* mine;
      std::vector<tcp::socket>* kept;
      void operator()(boost::system::error_code ec, tcp::socket s) const {
        if (ec)
          return;
        kept->push_back(std::move(s));
        ++*mine;
        ++*accepted;
        a->async_accept(*this);
      }
    };
    acceptors[i]->async_accept(loop{acceptors[i].get(), &accepted, &per_context[i], &kept[i]});
  }
  pool.run();
  std::vector<int> fds;
  for (int c = 0; c < clients; ++c) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ::sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_TEST_REQUIRE(::connect(fd, reinterpret_cast<::sockaddr*>(&addr), sizeof addr) == 0);
    fds.push_back(fd);
  }
  for (int i = 0; i < 2000 && accepted < clients; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  pool.stop();
  pool.join();
  for (int fd : fds)
    ::close(fd);
  BOOST_TEST(accepted == clients);
  // The kernel hashes connections over both listeners (64 connections all on one: ~1e-19).
  BOOST_TEST(per_context[0] > 0);
  BOOST_TEST(per_context[1] > 0);
}

BOOST_AUTO_TEST_SUITE_END()
