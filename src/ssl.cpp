// Python's ssl module on OpenSSL: SSLContext, SSLObject, the errors (CPython
// Modules/_ssl.c's behaviour: its defaults, its messages, its certificate dict).
#include "asyncio/ssl.hpp"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "sslproto.hpp"

namespace asyncio::ssl {

namespace {

/// Python's short library names (_ssl_data.h's lib codes).
std::string library_name(unsigned long e) {
  switch (ERR_GET_LIB(e)) {
    case ERR_LIB_SSL: return "SSL";
    case ERR_LIB_X509: return "X509";
    case ERR_LIB_X509V3: return "X509V3";
    case ERR_LIB_PEM: return "PEM";
    case ERR_LIB_ASN1: return "ASN1";
    case ERR_LIB_EVP: return "EVP";
    case ERR_LIB_BIO: return "BIO";
    case ERR_LIB_SYS: return "SYS";
    case ERR_LIB_RSA: return "RSA";
    case ERR_LIB_EC: return "EC";
    case ERR_LIB_PKCS12: return "PKCS12";
    default: return {};
  }
}

/// The reason's mnemonic as Python prints it: OpenSSL's reason text in upper
/// case with '_' for spaces ("certificate verify failed" ->
/// CERTIFICATE_VERIFY_FAILED), which is how OpenSSL derives one from the other.
std::string reason_name(unsigned long e) {
#ifdef ERR_RFLAG_COMMON
  // A reason shared by all libraries ("PEM lib"): Python gives none (exc.reason is None).
  if ((ERR_GET_REASON(e) & ERR_RFLAG_COMMON) != 0) return {};
#endif
  const char* text = ERR_reason_error_string(e);
  if (text == nullptr) return {};
  std::string out(text);
  for (char& c : out) c = c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_ip_address(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

[[noreturn]] void throw_last_error(const char* fallback) {
  std::rethrow_exception(detail::ssl_error(SSL_ERROR_SSL, nullptr, fallback));
}

void check_file(const std::string& path) {
  if (!path.empty() && ::access(path.c_str(), R_OK) != 0) throw_os_error(errno);
}

std::string asn1_string(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

/// Python's _create_tuple_for_X509_NAME: RDNs grouped by their set number.
std::vector<PeerCertificate::RDN> decode_name(const X509_NAME* name) {
  std::vector<PeerCertificate::RDN> out;
  int last_set = -1;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    int set = X509_NAME_ENTRY_set(entry);
    if (out.empty() || set != last_set) out.emplace_back();
    last_set = set;
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(entry);
    char buf[128];
    int nid = OBJ_obj2nid(obj);
    std::string key;
    if (nid != NID_undef) {
      key = OBJ_nid2ln(nid);
    } else {
      OBJ_obj2txt(buf, sizeof buf, obj, 1);
      key = buf;
    }
    out.back().emplace_back(std::move(key), asn1_string(X509_NAME_ENTRY_get_data(entry)));
  }
  return out;
}

std::string asn1_time(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, t);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

/// Python's formatting of an IP address in subjectAltName.
std::string ip_text(const ASN1_OCTET_STRING* ip) {
  const unsigned char* p = ASN1_STRING_get0_data(ip);
  int len = ASN1_STRING_length(ip);
  char buf[64];
  if (len == 4) {
    std::snprintf(buf, sizeof buf, "%d.%d.%d.%d", p[0], p[1], p[2], p[3]);
    return buf;
  }
  if (len == 16) {
    std::string out;
    for (int i = 0; i < 16; i += 2) {
      std::snprintf(buf, sizeof buf, "%s%X", i ? ":" : "", (p[i] << 8) | p[i + 1]);
      out += buf;
    }
    return out;
  }
  return "<invalid>";
}

PeerCertificate decode_certificate(X509* cert) {
  PeerCertificate c;
  c.subject = decode_name(X509_get_subject_name(cert));
  c.issuer = decode_name(X509_get_issuer_name(cert));
  c.version = static_cast<int>(X509_get_version(cert)) + 1;
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    char* hex = BN_bn2hex(bn);
    c.serialNumber = hex;
    OPENSSL_free(hex);
    BN_free(bn);
  }
  c.notBefore = asn1_time(X509_get0_notBefore(cert));
  c.notAfter = asn1_time(X509_get0_notAfter(cert));
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
      switch (n->type) {
        case GEN_DNS: c.subjectAltName.emplace_back("DNS", asn1_string(n->d.dNSName)); break;
        case GEN_EMAIL: c.subjectAltName.emplace_back("email", asn1_string(n->d.rfc822Name)); break;
        case GEN_URI: c.subjectAltName.emplace_back("URI", asn1_string(n->d.uniformResourceIdentifier)); break;
        case GEN_IPADD: c.subjectAltName.emplace_back("IP Address", ip_text(n->d.iPAddress)); break;
        default: break;
      }
    }
    GENERAL_NAMES_free(names);
  }
  return c;
}

void print_str(std::ostream& os, const std::string& s) {
  // Python's repr of a str: single quotes unless the text holds one.
  char q = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
  os << q;
  for (char ch : s) {
    if (ch == q || ch == '\\') os << '\\';
    os << ch;
  }
  os << q;
}

void print_pair(std::ostream& os, const std::pair<std::string, std::string>& p) {
  os << "(";
  print_str(os, p.first);
  os << ", ";
  print_str(os, p.second);
  os << ")";
}

template <class T, class F>
void print_tuple(std::ostream& os, const std::vector<T>& items, F each) {
  os << "(";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) os << ", ";
    each(items[i]);
  }
  if (items.size() == 1) os << ",";
  os << ")";
}

void print_name(std::ostream& os, const std::vector<PeerCertificate::RDN>& name) {
  print_tuple(os, name, [&](const PeerCertificate::RDN& rdn) {
    print_tuple(os, rdn, [&](const std::pair<std::string, std::string>& p) { print_pair(os, p); });
  });
}

/// ALPN selection on a server: the first of the server's protocols the client
/// offers (Python's _selectALPN_cb), or none.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                void* arg) {
  const auto* server = static_cast<const std::string*>(arg);
  unsigned char* o = nullptr;
  int rc = SSL_select_next_proto(&o, outlen, reinterpret_cast<const unsigned char*>(server->data()),
                                 static_cast<unsigned>(server->size()), in, inlen);
  if (rc != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = o;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

// ---- SSLContext -------------------------------------------------------------------

SSLContext::SSLContext(SSLMethod protocol)
    : ctx_(SSL_CTX_new(protocol == PROTOCOL_TLS_SERVER ? TLS_server_method() : TLS_client_method())),
      protocol_(protocol),
      check_hostname_(protocol == PROTOCOL_TLS_CLIENT),
      verify_mode_(protocol == PROTOCOL_TLS_CLIENT ? CERT_REQUIRED : CERT_NONE) {
  if (ctx_ == nullptr) throw_last_error("failed to allocate SSL context");
  // CPython's _ssl__SSLContext_impl defaults.
  SSL_CTX_set_options(ctx_, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_DH_USE |
                                SSL_OP_SINGLE_ECDH_USE | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_cipher_list(ctx_, "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM");
  SSL_CTX_set_session_id_context(ctx_, reinterpret_cast<const unsigned char*>("Python"), 6);
  set_verify_mode(verify_mode_);
  X509_VERIFY_PARAM_set_hostflags(SSL_CTX_get0_param(ctx_), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
}

SSLContext::~SSLContext() { SSL_CTX_free(ctx_); }

void SSLContext::load_cert_chain(const std::string& certfile, const std::string& keyfile,
                                 const std::optional<std::string>& password) {
  check_file(certfile);
  check_file(keyfile);
  std::string pw = password.value_or(std::string());
  SSL_CTX_set_default_passwd_cb_userdata(ctx_, password ? pw.data() : nullptr);
  ERR_clear_error();
  bool ok = SSL_CTX_use_certificate_chain_file(ctx_, certfile.c_str()) == 1 &&
            SSL_CTX_use_PrivateKey_file(ctx_, (keyfile.empty() ? certfile : keyfile).c_str(), SSL_FILETYPE_PEM) == 1 &&
            SSL_CTX_check_private_key(ctx_) == 1;
  SSL_CTX_set_default_passwd_cb_userdata(ctx_, nullptr);
  if (!ok) throw_last_error("PEM lib");
}

void SSLContext::load_verify_locations(const std::string& cafile, const std::string& capath,
                                       const std::string& cadata) {
  if (cafile.empty() && capath.empty() && cadata.empty())
    throw TypeError("cafile, capath and cadata cannot be all omitted");
  ERR_clear_error();
  if (!cafile.empty() || !capath.empty()) {
    check_file(cafile);
    check_file(capath);
    if (SSL_CTX_load_verify_locations(ctx_, cafile.empty() ? nullptr : cafile.c_str(),
                                      capath.empty() ? nullptr : capath.c_str()) != 1)
      throw_last_error("unknown error");
  }
  if (!cadata.empty()) {
    BIO* bio = BIO_new_mem_buf(cadata.data(), static_cast<int>(cadata.size()));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
    int loaded = 0;
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, cert);
      X509_free(cert);
      ++loaded;
    }
    BIO_free(bio);
    ERR_clear_error();  // the end of the text reads as "no start line"
    if (loaded == 0) throw SSLError(SSL_ERROR_SSL, "no start line: cadata does not contain a certificate");
  }
}

void SSLContext::set_default_verify_paths() {
  if (SSL_CTX_set_default_verify_paths(ctx_) != 1) throw_last_error("unknown error");
}

void SSLContext::load_default_certs(Purpose) { set_default_verify_paths(); }

void SSLContext::set_check_hostname(bool on) {
  if (on && verify_mode_ == CERT_NONE) set_verify_mode(CERT_REQUIRED);
  check_hostname_ = on;
}

void SSLContext::set_verify_mode(VerifyMode mode) {
  if (mode == CERT_NONE && check_hostname_)
    throw ValueError("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
  int flags = SSL_VERIFY_NONE;
  if (mode == CERT_OPTIONAL) flags = SSL_VERIFY_PEER;
  if (mode == CERT_REQUIRED) flags = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx_, flags, nullptr);
  verify_mode_ = mode;
}

void SSLContext::set_alpn_protocols(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) throw ValueError("ALPN protocols must be 1 to 255 in length");
    wire += static_cast<char>(p.size());
    wire += p;
  }
  alpn_ = std::move(wire);
  SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(alpn_.data()),
                          static_cast<unsigned>(alpn_.size()));
  SSL_CTX_set_alpn_select_cb(ctx_, &select_alpn, &alpn_);
}

void SSLContext::set_ciphers(const std::string& ciphers) {
  if (SSL_CTX_set_cipher_list(ctx_, ciphers.c_str()) != 1) {
    ERR_clear_error();
    throw SSLError(SSL_ERROR_SSL, "No cipher can be selected.");
  }
}

std::ostream& operator<<(std::ostream& os, const SSLContext& c) {
  static const char* const modes[] = {"CERT_NONE", "CERT_OPTIONAL", "CERT_REQUIRED"};
  return os << "<ssl.SSLContext " << (c.protocol_ == PROTOCOL_TLS_SERVER ? "PROTOCOL_TLS_SERVER" : "PROTOCOL_TLS_CLIENT")
            << " verify_mode=" << modes[c.verify_mode_] << " check_hostname=" << (c.check_hostname_ ? "True" : "False")
            << ">";
}

std::shared_ptr<SSLContext> create_default_context(Purpose purpose, const std::string& cafile,
                                                   const std::string& capath, const std::string& cadata) {
  auto ctx = std::make_shared<SSLContext>(purpose == Purpose::SERVER_AUTH ? PROTOCOL_TLS_CLIENT : PROTOCOL_TLS_SERVER);
  if (!cafile.empty() || !capath.empty() || !cadata.empty()) {
    ctx->load_verify_locations(cafile, capath, cadata);
  } else if (ctx->verify_mode() != CERT_NONE) {
    ctx->load_default_certs(purpose);
  }
  return ctx;
}

// ---- results ---------------------------------------------------------------------

std::ostream& operator<<(std::ostream& os, const CipherInfo& c) {
  os << "(";
  print_str(os, c.name);
  os << ", ";
  print_str(os, c.protocol);
  return os << ", " << c.secret_bits << ")";
}

std::string PeerCertificate::common_name() const {
  for (const auto& rdn : subject) {
    for (const auto& [k, v] : rdn) {
      if (k == "commonName") return v;
    }
  }
  return {};
}

std::ostream& operator<<(std::ostream& os, const PeerCertificate& c) {
  if (c.empty()) return os << "{}";
  os << "{'subject': ";
  print_name(os, c.subject);
  os << ", 'issuer': ";
  print_name(os, c.issuer);
  os << ", 'version': " << c.version << ", 'serialNumber': ";
  print_str(os, c.serialNumber);
  os << ", 'notBefore': ";
  print_str(os, c.notBefore);
  os << ", 'notAfter': ";
  print_str(os, c.notAfter);
  if (!c.subjectAltName.empty()) {
    os << ", 'subjectAltName': ";
    print_tuple(os, c.subjectAltName, [&](const std::pair<std::string, std::string>& p) { print_pair(os, p); });
  }
  return os << "}";
}

// ---- SSLObject -------------------------------------------------------------------

SSLObject::SSLObject(std::shared_ptr<SSLContext> context, bool server_side, std::string server_hostname)
    : context_(std::move(context)), ssl_(nullptr), server_side_(server_side) {
  if (!server_side_ && !server_hostname.empty()) server_hostname_ = std::move(server_hostname);
  if (context_->check_hostname() && !server_side_ && server_hostname_.empty())
    throw ValueError("check_hostname requires server_hostname");
  if (server_side_ && context_->protocol() == PROTOCOL_TLS_CLIENT)
    throw ValueError("Cannot create a server socket with a PROTOCOL_TLS_CLIENT context");
  if (!server_side_ && context_->protocol() == PROTOCOL_TLS_SERVER)
    throw ValueError("Cannot create a client socket with a PROTOCOL_TLS_SERVER context");
  ssl_ = SSL_new(context_->native_handle());
  if (ssl_ == nullptr) throw_last_error("failed to allocate SSL");
  if (!server_hostname_.empty()) {
    bool ip = is_ip_address(server_hostname_);
    if (!ip) SSL_set_tlsext_host_name(ssl_, server_hostname_.c_str());  // SNI: names only (RFC 6066)
    if (context_->check_hostname()) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, server_hostname_.c_str())
                  : X509_VERIFY_PARAM_set1_host(param, server_hostname_.c_str(), server_hostname_.size());
      if (ok != 1) {
        SSL_free(ssl_);
        throw_last_error("invalid server_hostname");
      }
    }
  }
  if (server_side_) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
}

SSLObject::~SSLObject() { SSL_free(ssl_); }

std::string SSLObject::version() const {
  if (!SSL_is_init_finished(ssl_)) return {};
  return SSL_get_version(ssl_);
}

std::optional<CipherInfo> SSLObject::cipher() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  if (c == nullptr) return std::nullopt;
  return CipherInfo{SSL_CIPHER_get_name(c), SSL_CIPHER_get_version(c), SSL_CIPHER_get_bits(c, nullptr)};
}

std::optional<PeerCertificate> SSLObject::getpeercert() const {
  if (!SSL_is_init_finished(ssl_)) throw ValueError("handshake not done yet");
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr) return std::nullopt;
  // Python: an unverified certificate is not decoded ({}).
  if ((SSL_CTX_get_verify_mode(SSL_get_SSL_CTX(ssl_)) & SSL_VERIFY_PEER) == 0) return PeerCertificate{};
  return decode_certificate(cert);
}

std::string SSLObject::getpeercert_der() const {
  if (!SSL_is_init_finished(ssl_)) throw ValueError("handshake not done yet");
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr) return {};
  unsigned char* der = nullptr;
  int n = i2d_X509(cert, &der);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string SSLObject::selected_alpn_protocol() const {
  const unsigned char* data = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return data ? std::string(reinterpret_cast<const char*>(data), len) : std::string();
}

std::ostream& operator<<(std::ostream& os, const SSLObject& o) {
  os << "<ssl.SSLObject " << (o.server_side_ ? "server" : "client");
  if (!o.server_hostname_.empty()) os << " server_hostname='" << o.server_hostname_ << "'";
  std::string v = o.version();
  if (!v.empty()) os << " " << v;
  return os << ">";
}

}  // namespace asyncio::ssl

namespace asyncio::detail {

std::exception_ptr ssl_error(int code, ssl_st* ssl, const char* fallback) {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  std::string lib = e ? ssl::library_name(e) : std::string();
  std::string reason = e ? ssl::reason_name(e) : std::string();
  std::string text;
  if (e) {
    const char* r = ERR_reason_error_string(e);
    text = r ? r : "unknown error";
  } else {
    text = fallback;
  }
  std::string prefix = lib.empty() && reason.empty() ? std::string()
                       : reason.empty()               ? "[" + lib + "] "
                                                      : "[" + lib + ": " + reason + "] ";
  if (e && ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED && ssl != nullptr) {
    long verify = SSL_get_verify_result(ssl);
    std::string verify_message;
    const X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH) {
      verify_message = "Hostname mismatch, certificate is not valid for '" +
                       std::string(X509_VERIFY_PARAM_get0_host(const_cast<X509_VERIFY_PARAM*>(param), 0)) + "'.";
    } else if (verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      char* ip = X509_VERIFY_PARAM_get1_ip_asc(const_cast<X509_VERIFY_PARAM*>(param));
      verify_message = "IP address mismatch, certificate is not valid for '" + std::string(ip ? ip : "") + "'.";
      OPENSSL_free(ip);
    } else {
      verify_message = X509_verify_cert_error_string(verify);
    }
    return std::make_exception_ptr(ssl::SSLCertVerificationError(code, prefix + text + ": " + verify_message, lib,
                                                                 reason, verify, verify_message));
  }
  if (code == SSL_ERROR_SYSCALL && !e) {
    // CPython's SSLEOFError: the transport ended in the middle of a record.
    return std::make_exception_ptr(ssl::SSLError(8, "EOF occurred in violation of protocol"));
  }
  return std::make_exception_ptr(ssl::SSLError(code, prefix + text, lib, reason));
}

}  // namespace asyncio::detail
