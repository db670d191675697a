// Tutti: the libsrtp 3 API that mediasoup >= 3.16 calls (versatica fork:
// opaque srtp_policy_t built with srtp_policy_*(), srtp_stream_remove(),
// protect/unprotect with separate in/out buffers and size_t lengths), mapped
// onto libsrtp 2.5, the only libsrtp Debian ships. C++ only: the libsrtp3
// entry points are C++ overloads of the libsrtp2 C functions of the same name.
//
// How: copy input to output, then run libsrtp2 in place on the output; check
// the output capacity against this session's real trailer length first
// (libsrtp2 silently assumes there is room for it).
#ifndef TUTTI_SRTP3_COMPAT_H
#define TUTTI_SRTP3_COMPAT_H

#ifndef __cplusplus
#error "Tutti's libsrtp3-over-libsrtp2 header is C++ only"
#endif

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

// libsrtp3's srtp_policy_t is an opaque pointer; hide libsrtp2's struct of
// the same name (C symbols are unaffected by the rename).
#define srtp_policy_t tutti_srtp2_policy_t
#include <srtp2/srtp.h>
#undef srtp_policy_t

// Error codes libsrtp 3 added (values past libsrtp2's last one).
inline constexpr srtp_err_status_t srtp_err_status_buffer_small = static_cast<srtp_err_status_t>(28);
inline constexpr srtp_err_status_t srtp_err_status_cryptex_err  = static_cast<srtp_err_status_t>(29);

struct tutti_srtp3_policy
{
	tutti_srtp2_policy_t p{};
	bool hasProfile{ false };
	bool hasKey{ false };
	size_t keyLen{ 0 };
	size_t saltLen{ 0 };
	unsigned char key[SRTP_MAX_KEY_LEN]{};
};

typedef tutti_srtp3_policy* srtp_policy_t;

namespace tutti_srtp3
{
	// Trailer lengths are kept in the session's user data (unused by mediasoup):
	// RTP tag length in bits 0-7, SRTCP tag + 4 byte index in bits 8-15.
	inline size_t RtpTrailerLen(srtp_t ctx)
	{
		const auto v = reinterpret_cast<uintptr_t>(srtp_get_user_data(ctx));
		return v ? (v & 0xff) : SRTP_MAX_TRAILER_LEN;
	}
	inline size_t RtcpTrailerLen(srtp_t ctx)
	{
		const auto v = reinterpret_cast<uintptr_t>(srtp_get_user_data(ctx));
		return v ? ((v >> 8) & 0xff) : SRTP_MAX_TRAILER_LEN + 4;
	}
} // namespace tutti_srtp3

inline srtp_err_status_t srtp_policy_create(srtp_policy_t* policy)
{
	if (!policy)
		return srtp_err_status_bad_param;
	*policy = new (std::nothrow) tutti_srtp3_policy();
	if (!*policy)
		return srtp_err_status_alloc_fail;
	(*policy)->p.window_size = 128;
	return srtp_err_status_ok;
}

inline void srtp_policy_destroy(srtp_policy_t policy)
{
	if (policy)
		std::memset(policy->key, 0, sizeof(policy->key));
	delete policy;
}

inline srtp_err_status_t srtp_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc)
{
	if (!policy)
		return srtp_err_status_bad_param;
	policy->p.ssrc = ssrc;
	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_policy_set_profile(srtp_policy_t policy, srtp_profile_t profile)
{
	if (!policy)
		return srtp_err_status_bad_param;
	srtp_err_status_t err = srtp_crypto_policy_set_from_profile_for_rtp(&policy->p.rtp, profile);
	if (err != srtp_err_status_ok)
		return err;
	err = srtp_crypto_policy_set_from_profile_for_rtcp(&policy->p.rtcp, profile);
	if (err != srtp_err_status_ok)
		return err;
	policy->keyLen     = srtp_profile_get_master_key_length(profile);
	policy->saltLen    = srtp_profile_get_master_salt_length(profile);
	policy->hasProfile = true;
	return srtp_err_status_ok;
}

// One master key, no MKI: that is all mediasoup uses (mki == nullptr).
inline srtp_err_status_t srtp_policy_add_key(
  srtp_policy_t policy,
  const uint8_t* key,
  size_t keyLen,
  const uint8_t* salt,
  size_t saltLen,
  const uint8_t* mki,
  size_t mkiLen)
{
	if (!policy || !key || !salt || policy->hasKey || mki || mkiLen != 0)
		return srtp_err_status_bad_param;
	if (keyLen + saltLen > sizeof(policy->key))
		return srtp_err_status_bad_param;
	if (policy->hasProfile && (keyLen != policy->keyLen || saltLen != policy->saltLen))
		return srtp_err_status_bad_param;
	std::memcpy(policy->key, key, keyLen);
	std::memcpy(policy->key + keyLen, salt, saltLen);
	policy->keyLen  = keyLen;
	policy->saltLen = saltLen;
	policy->hasKey  = true;
	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_policy_set_window_size(srtp_policy_t policy, size_t windowSize)
{
	if (!policy || windowSize < 64 || windowSize >= 0x8000)
		return srtp_err_status_bad_param;
	policy->p.window_size = windowSize;
	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_policy_set_allow_repeat_tx(srtp_policy_t policy, bool allow)
{
	if (!policy)
		return srtp_err_status_bad_param;
	policy->p.allow_repeat_tx = allow ? 1 : 0;
	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_create(srtp_t* session, srtp_policy_t policy)
{
	if (!session || !policy || !policy->hasProfile || !policy->hasKey)
		return srtp_err_status_bad_param;
	tutti_srtp2_policy_t p = policy->p;
	p.key                  = policy->key;
	p.next                 = nullptr;
	const srtp_err_status_t err = srtp_create(session, &p);
	if (err != srtp_err_status_ok)
		return err;
	const uintptr_t trailers = static_cast<uintptr_t>(p.rtp.auth_tag_len & 0xff) |
	                           (static_cast<uintptr_t>((p.rtcp.auth_tag_len + 4) & 0xff) << 8);
	srtp_set_user_data(*session, reinterpret_cast<void*>(trailers));
	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
	return srtp_remove_stream(session, ssrc);
}

namespace tutti_srtp3
{
	using V2Fn = srtp_err_status_t (*)(srtp_t, void*, int*);

	inline srtp_err_status_t Protect(
	  V2Fn fn, srtp_t ctx, size_t trailer, const uint8_t* in, size_t inLen, uint8_t* out, size_t* outLen)
	{
		if (!ctx || !in || !out || !outLen)
			return srtp_err_status_bad_param;
		if (inLen > static_cast<size_t>(INT_MAX) - trailer)
			return srtp_err_status_bad_param;
		if (*outLen < inLen + trailer)
			return srtp_err_status_buffer_small;
		if (out != in)
			std::memmove(out, in, inLen);
		int len                     = static_cast<int>(inLen);
		const srtp_err_status_t err = fn(ctx, out, &len);
		if (err == srtp_err_status_ok)
			*outLen = static_cast<size_t>(len);
		return err;
	}

	inline srtp_err_status_t Unprotect(
	  V2Fn fn, srtp_t ctx, const uint8_t* in, size_t inLen, uint8_t* out, size_t* outLen)
	{
		if (!ctx || !in || !out || !outLen)
			return srtp_err_status_bad_param;
		if (inLen > static_cast<size_t>(INT_MAX))
			return srtp_err_status_bad_param;
		// Decrypted in place in |out|, which therefore needs the whole input.
		if (out != in)
		{
			if (*outLen < inLen)
				return srtp_err_status_buffer_small;
			std::memmove(out, in, inLen);
		}
		int len                     = static_cast<int>(inLen);
		const srtp_err_status_t err = fn(ctx, out, &len);
		if (err == srtp_err_status_ok)
			*outLen = static_cast<size_t>(len);
		return err;
	}
} // namespace tutti_srtp3

inline srtp_err_status_t srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtpLen, uint8_t* srtp, size_t* srtpLen, size_t mkiIndex)
{
	if (mkiIndex != 0)
		return srtp_err_status_bad_mki;
	return tutti_srtp3::Protect(
	  &::srtp_protect, ctx, tutti_srtp3::RtpTrailerLen(ctx), rtp, rtpLen, srtp, srtpLen);
}

inline srtp_err_status_t srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtpLen, uint8_t* rtp, size_t* rtpLen)
{
	return tutti_srtp3::Unprotect(&::srtp_unprotect, ctx, srtp, srtpLen, rtp, rtpLen);
}

inline srtp_err_status_t srtp_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcpLen, uint8_t* srtcp, size_t* srtcpLen, size_t mkiIndex)
{
	if (mkiIndex != 0)
		return srtp_err_status_bad_mki;
	return tutti_srtp3::Protect(
	  &::srtp_protect_rtcp, ctx, tutti_srtp3::RtcpTrailerLen(ctx), rtcp, rtcpLen, srtcp, srtcpLen);
}

inline srtp_err_status_t srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcpLen, uint8_t* rtcp, size_t* rtcpLen)
{
	return tutti_srtp3::Unprotect(&::srtp_unprotect_rtcp, ctx, srtcp, srtcpLen, rtcp, rtcpLen);
}

#endif
