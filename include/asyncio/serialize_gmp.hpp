#pragma once
/// \file serialize_gmp.hpp
/// GMP's mpz_class through a process pool (or an MpiPoolExecutor): cereal's save/load for it.
/// Opt-in, so that the library's other headers need neither GMP nor its link flags: a program
/// that sends or returns mpz_class includes this header and links gmpxx and gmp (CMake:
/// asyncio::gmp; pkg-config: gmpxx gmp).
///
///   #include <asyncio/process_pool.hpp>
///   #include <asyncio/serialize_gmp.hpp>
///   mpz_class slow_factorial(int n);
///   ASYNCIO_REGISTER_PROCESS_FUNCTION(slow_factorial);

#include <gmpxx.h>

#include <algorithm>
#include <vector>

#include <cereal/archives/binary.hpp>
#include <cereal/types/vector.hpp>

// GMP integers cross the process boundary as a sign and their limbs (both ends are the same
// program on the same machine, so the native limb layout is shared).
namespace cereal {

template <class Archive>
void save(Archive& archive, const mpz_class& value) {
  const mp_limb_t* limbs = mpz_limbs_read(value.get_mpz_t());
  std::vector<mp_limb_t> magnitude(limbs, limbs + mpz_size(value.get_mpz_t()));
  archive(sgn(value), magnitude);
}

template <class Archive>
void load(Archive& archive, mpz_class& value) {
  int sign = 0;
  std::vector<mp_limb_t> magnitude;
  archive(sign, magnitude);
  const auto n = static_cast<mp_size_t>(magnitude.size());
  mp_limb_t* limbs = mpz_limbs_write(value.get_mpz_t(), std::max<mp_size_t>(n, 1));
  std::copy(magnitude.begin(), magnitude.end(), limbs);
  mpz_limbs_finish(value.get_mpz_t(), sign < 0 ? -n : n);
}

}  // namespace cereal
