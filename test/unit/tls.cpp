// TLS with asio::ssl::stream directly over asio_uring's TCP socket (lowest_layer_type /
// lowest_layer()), Beast HTTP on top; Asio's SSL stream keeps its internal steady_timers on our
// executor. The certificate is made in the test with OpenSSL's API; clients are Asio's own SSL
// streams on a plain boost::asio::io_context thread, verifying the certificate and host name.
#include "fixtures.hpp"

#include <asio_uring/beast.hpp>
#include <asio_uring/ip/tcp.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using asio_uring::ip::tcp;
using namespace asio_uring::test;
using namespace std::chrono_literals;

using tls_socket = ssl::stream<tcp::socket>;
static_assert(beast::is_async_stream<tls_socket>::value);
static_assert(std::is_same_v<beast::lowest_layer_type<tls_socket>, tcp::socket>);
static_assert(std::is_same_v<tls_socket::lowest_layer_type, tcp::socket::lowest_layer_type>);

namespace {

/// A self-signed P-256 certificate for CN=localhost and its key, as PEM.
struct test_certificate {
  std::string cert_pem, key_pem;

  test_certificate() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> x509(X509_new(), X509_free);
    if (!key || !x509)
      throw std::runtime_error("OpenSSL: cannot make a key or certificate");
    X509_set_version(x509.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(x509.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(x509.get()), 3600);
    X509_set_pubkey(x509.get(), key.get());
    X509_NAME* name = X509_get_subject_name(x509.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x509.get(), name);
    if (!X509_sign(x509.get(), key.get(), EVP_sha256()))
      throw std::runtime_error("OpenSSL: cannot sign the certificate");
    cert_pem = pem([&](BIO* b) { return PEM_write_bio_X509(b, x509.get()); });
    key_pem = pem([&](BIO* b) {
      return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
  }

private:
  template <class Write>
  static std::string pem(Write write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || !write(bio.get()))
      throw std::runtime_error("OpenSSL: cannot write PEM");
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  }
};

const test_certificate& certificate() {
  static const test_certificate c;
  return c;
}

ssl::context server_context() {
  ssl::context c(ssl::context::tls_server);
  c.use_certificate(asio::buffer(certificate().cert_pem), ssl::context::pem);
  c.use_private_key(asio::buffer(certificate().key_pem), ssl::context::pem);
  return c;
}

/// Asio's SSL client on its own thread: verifies the certificate and the host name, sends
/// `targets` over one keep-alive connection, collects the bodies, shuts TLS down.
struct tls_client {
  std::vector<std::string> bodies;
  std::string error;
  std::thread thread;

  tls_client(unsigned short port, std::vector<std::string> targets) {
    thread = std::thread([this, port, targets = std::move(targets)] {
      try {
        asio::io_context ioc;
        ssl::context c(ssl::context::tls_client);
        c.add_certificate_authority(asio::buffer(certificate().cert_pem));
        c.set_verify_mode(ssl::verify_peer);
        ssl::stream<asio::ip::tcp::socket> s(ioc, c);
        s.set_verify_callback(ssl::host_name_verification("localhost"));
        s.next_layer().connect({asio::ip::address_v4::loopback(), port});
        s.handshake(ssl::stream_base::client);
        beast::flat_buffer buffer;
        for (const auto& t : targets) {
          http::request<http::string_body> req{http::verb::get, t, 11};
          req.set(http::field::host, "localhost");
          http::write(s, req);
          http::response<http::string_body> res;
          http::read(s, buffer, res);
          bodies.push_back(res.body());
        }
        beast::error_code ec;
        s.shutdown(ec); // the server answers close_notify: a clean TLS end
        if (ec && ec != asio::error::eof)
          error = "shutdown: " + ec.message();
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
  }
  ~tls_client() {
    if (thread.joinable())
      thread.join();
  }
};

/// Accepts `connections` connections; each: TLS handshake, HTTP requests until the client
/// shuts down, TLS shutdown. Counts handshake failures and requests served.
asio::awaitable<void> serve_tls(tcp::acceptor& acceptor, ssl::context& c, int connections,
                                int* served, int* failed_handshakes) {
  for (int i = 0; i < connections; ++i) {
    tls_socket s(co_await acceptor.async_accept(asio::use_awaitable), c);
    auto [hec] =
        co_await s.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (hec) {
      ++*failed_handshakes;
      continue; // the socket closes; the next connection is served
    }
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(s, buffer, req, asio::as_tuple(asio::use_awaitable));
      if (ec)
        break; // the client's close_notify (or EOF)
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.body() = "tls " + std::string(req.target());
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      co_await http::async_write(s, res, asio::use_awaitable);
      ++*served;
    }
    co_await s.async_shutdown(asio::as_tuple(asio::use_awaitable));
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(tls_tests)

BOOST_AUTO_TEST_CASE(https_over_ssl_stream_of_asio_uring_socket) {
  asio_uring::io_context ctx;
  ssl::context c = server_context();
  tcp::acceptor acceptor(ctx, {asio::ip::address_v4::loopback(), 0});
  int served = 0, failed = 0;
  asio::co_spawn(ctx, serve_tls(acceptor, c, 1, &served, &failed), asio::detached);
  tls_client client(acceptor.local_endpoint().port(), {"/a", "/b", "/c"});
  run_bounded(ctx);
  client.thread.join();
  BOOST_TEST(client.error == "");
  BOOST_TEST_REQUIRE(client.bodies.size() == 3u);
  BOOST_TEST(client.bodies[0] == "tls /a");
  BOOST_TEST(client.bodies[2] == "tls /c");
  BOOST_TEST(served == 3);
  BOOST_TEST(failed == 0);
}

BOOST_AUTO_TEST_CASE(plain_text_client_fails_its_handshake_and_the_next_is_served) {
  asio_uring::io_context ctx;
  ssl::context c = server_context();
  tcp::acceptor acceptor(ctx, {asio::ip::address_v4::loopback(), 0});
  int served = 0, failed = 0;
  asio::co_spawn(ctx, serve_tls(acceptor, c, 2, &served, &failed), asio::detached);
  unsigned short port = acceptor.local_endpoint().port();
  std::string plain_reply;
  std::optional<tls_client> client;
  std::thread clients([&] {
    { // HTTP without TLS: the server's handshake fails and it closes the connection
      asio::io_context ioc;
      asio::ip::tcp::socket s(ioc);
      s.connect({asio::ip::address_v4::loopback(), port});
      std::string req = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
      asio::write(s, asio::buffer(req));
      beast::error_code ec;
      char buf[512];
      std::size_t n = s.read_some(asio::buffer(buf), ec);
      plain_reply.assign(buf, ec ? 0 : n);
    }
    client.emplace(port, std::vector<std::string>{"/after"}); // then a TLS client
    client->thread.join();
  });
  run_bounded(ctx);
  clients.join();
  BOOST_TEST_REQUIRE(client.has_value());
  BOOST_TEST(failed == 1);
  BOOST_TEST(plain_reply.find("HTTP/1.1 200") == std::string::npos); // never served in clear
  BOOST_TEST(client->error == "");
  BOOST_TEST_REQUIRE(client->bodies.size() == 1u);
  BOOST_TEST(client->bodies[0] == "tls /after");
  BOOST_TEST(served == 1);
}

BOOST_AUTO_TEST_SUITE_END()
