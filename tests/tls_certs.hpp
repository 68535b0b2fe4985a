#pragma once
// Certificates for the TLS tests, made at test time with the `openssl` command
// into a temporary directory (no key is committed): a self-signed certificate
// for localhost and 127.0.0.1 valid for two days, and one that expired in 2020.
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace tls_certs {

struct Certs {
  std::filesystem::path dir;
  std::string cert, key;                  ///< valid now
  std::string expired_cert, expired_key;  ///< notAfter Jan  2 00:00:00 2020 GMT

  Certs() {
    char tmpl[] = "/tmp/asyncio-ssl-XXXXXX";
    dir = ::mkdtemp(tmpl);
    cert = path("cert.pem");
    key = path("key.pem");
    expired_cert = path("expired.pem");
    expired_key = path("expired-key.pem");
    const std::string names = "subjectAltName=DNS:localhost,IP:127.0.0.1";
    const std::string newkey = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost";
    sh("openssl req -x509" + newkey + " -days 2 -addext " + names + " -keyout " + key + " -out " + cert);
    // `openssl req` cannot back-date; `openssl ca -selfsign` can (-startdate/-enddate).
    write("ext.cnf", names + "\n");
    write("index.txt", "");
    write("serial", "01\n");
    write("ca.cnf",
          "[ca]\ndefault_ca = d\n[d]\ndatabase = " + path("index.txt") + "\nnew_certs_dir = " + dir.string() +
              "\nserial = " + path("serial") + "\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n");
    sh("openssl req -new" + newkey + " -keyout " + expired_key + " -out " + path("expired.csr"));
    sh("openssl ca -batch -config " + path("ca.cnf") + " -selfsign -keyfile " + expired_key + " -in " +
       path("expired.csr") + " -startdate 20200101000000Z -enddate 20200102000000Z -extfile " + path("ext.cnf") +
       " -out " + expired_cert);
  }
  ~Certs() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  Certs(const Certs&) = delete;
  Certs& operator=(const Certs&) = delete;

 private:
  std::string path(const char* name) const { return (dir / name).string(); }
  void write(const char* name, const std::string& text) const { std::ofstream(dir / name) << text; }
  static void sh(const std::string& cmd) {
    if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("openssl failed: " + cmd);
  }
};

/// Made once per process.
inline const Certs& certs() {
  static Certs c;
  return c;
}

}  // namespace tls_certs
