// Unit test for media-workers/build/shims/libsrtp3/srtp.h (libsrtp3 API over
// libsrtp 2.5), built and run by srtp3-compat.test.ts. Uses the API exactly as
// mediasoup's SrtpSession does. Prints "ok ..." lines and exits non-zero on failure.
#include <srtp.h>

#include <arpa/inet.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

static int failures = 0;

#define CHECK(cond, ...)                                                                           \
	do                                                                                               \
	{                                                                                                \
		if (!(cond))                                                                                   \
		{                                                                                              \
			std::printf("FAIL %s:%d %s: ", __FILE__, __LINE__, #cond);                                   \
			std::printf(__VA_ARGS__);                                                                    \
			std::printf("\n");                                                                           \
			++failures;                                                                                  \
		}                                                                                              \
	} while (0)

struct Profile
{
	const char* name;
	srtp_profile_t profile;
	size_t rtpTag;
	size_t rtcpTrailer; // tag + 4-byte SRTCP index
};

static const Profile Profiles[] = {
	{ "AES_CM_128_HMAC_SHA1_80", srtp_profile_aes128_cm_sha1_80, 10, 14 },
	{ "AES_CM_128_HMAC_SHA1_32", srtp_profile_aes128_cm_sha1_32, 4, 14 },
	{ "AEAD_AES_128_GCM", srtp_profile_aead_aes_128_gcm, 16, 20 },
	{ "AEAD_AES_256_GCM", srtp_profile_aead_aes_256_gcm, 16, 20 },
};

static srtp_t MakeSession(srtp_profile_t profile, bool outbound, const std::vector<uint8_t>& keySalt)
{
	srtp_policy_t policy{ nullptr };
	srtp_err_status_t err = srtp_policy_create(&policy);
	CHECK(err == srtp_err_status_ok, "policy_create %d", err);

	srtp_ssrc_t ssrc{};
	ssrc.type  = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	ssrc.value = 0;
	CHECK(srtp_policy_set_ssrc(policy, ssrc) == srtp_err_status_ok, "set_ssrc");
	CHECK(srtp_policy_set_profile(policy, profile) == srtp_err_status_ok, "set_profile");

	const size_t keyLen  = srtp_profile_get_master_key_length(profile);
	const size_t saltLen = srtp_profile_get_master_salt_length(profile);
	CHECK(keySalt.size() == keyLen + saltLen, "key+salt length %zu", keySalt.size());

	err = srtp_policy_add_key(policy, keySalt.data(), keyLen, keySalt.data() + keyLen, saltLen, nullptr, 0);
	CHECK(err == srtp_err_status_ok, "add_key %d", err);
	CHECK(srtp_policy_set_allow_repeat_tx(policy, true) == srtp_err_status_ok, "allow_repeat_tx");
	CHECK(srtp_policy_set_window_size(policy, 1024) == srtp_err_status_ok, "window_size");

	srtp_t session{ nullptr };
	err = srtp_create(&session, policy);
	srtp_policy_destroy(policy);
	CHECK(err == srtp_err_status_ok && session, "srtp_create %d", err);
	return session;
}

static std::vector<uint8_t> RandomBytes(size_t n, unsigned seed)
{
	std::vector<uint8_t> v(n);
	std::srand(seed);
	for (auto& b : v)
		b = static_cast<uint8_t>(std::rand());
	return v;
}

static std::vector<uint8_t> RtpPacket(uint16_t seq, uint32_t ssrc, size_t payloadLen)
{
	std::vector<uint8_t> p(12 + payloadLen);
	p[0] = 0x80;
	p[1] = 96;
	p[2] = seq >> 8;
	p[3] = seq & 0xff;
	p[4] = 0x01; // timestamp
	p[8]  = ssrc >> 24;
	p[9]  = (ssrc >> 16) & 0xff;
	p[10] = (ssrc >> 8) & 0xff;
	p[11] = ssrc & 0xff;
	for (size_t i = 0; i < payloadLen; ++i)
		p[12 + i] = static_cast<uint8_t>(i * 7);
	return p;
}

static std::vector<uint8_t> RtcpSenderReport(uint32_t ssrc)
{
	std::vector<uint8_t> p(28, 0);
	p[0] = 0x80;
	p[1] = 200; // SR
	p[3] = 6;   // length in 32-bit words - 1
	p[4] = ssrc >> 24;
	p[5] = (ssrc >> 16) & 0xff;
	p[6] = (ssrc >> 8) & 0xff;
	p[7] = ssrc & 0xff;
	for (size_t i = 8; i < p.size(); ++i)
		p[i] = static_cast<uint8_t>(i);
	return p;
}

static void TestProfile(const Profile& prof)
{
	const size_t keyLen = srtp_profile_get_master_key_length(prof.profile) +
	                      srtp_profile_get_master_salt_length(prof.profile);
	const auto key      = RandomBytes(keyLen, 1);
	const auto otherKey = RandomBytes(keyLen, 2);
	const int before    = failures;

	srtp_t tx = MakeSession(prof.profile, true, key);
	srtp_t rx = MakeSession(prof.profile, false, key);
	srtp_t bad = MakeSession(prof.profile, false, otherKey);

	// RTP round trip, separate in/out buffers (as mediasoup encrypts).
	for (uint16_t seq = 1000; seq < 1010; ++seq)
	{
		const auto rtp = RtpPacket(seq, 0x11223344, 300);
		std::vector<uint8_t> srtp(rtp.size() + SRTP_MAX_TRAILER_LEN);
		size_t srtpLen = srtp.size();
		srtp_err_status_t err = srtp_protect(tx, rtp.data(), rtp.size(), srtp.data(), &srtpLen, 0);
		CHECK(err == srtp_err_status_ok, "%s protect %d", prof.name, err);
		CHECK(srtpLen == rtp.size() + prof.rtpTag, "%s srtp len %zu", prof.name, srtpLen);
		CHECK(std::memcmp(srtp.data(), rtp.data(), 12) == 0, "%s header must stay clear", prof.name);
		CHECK(std::memcmp(srtp.data() + 12, rtp.data() + 12, 300) != 0, "%s payload not encrypted", prof.name);

		if (seq == 1000)
		{
			// Wrong key: authentication must fail.
			std::vector<uint8_t> copy(srtp.begin(), srtp.begin() + srtpLen);
			size_t outLen = copy.size();
			err = srtp_unprotect(bad, copy.data(), copy.size(), copy.data(), &outLen);
			CHECK(err == srtp_err_status_auth_fail, "%s bad key gave %d", prof.name, err);
		}

		// Unprotect in place (as mediasoup decrypts).
		size_t rtpLen = srtpLen;
		err = srtp_unprotect(rx, srtp.data(), srtpLen, srtp.data(), &rtpLen);
		CHECK(err == srtp_err_status_ok, "%s unprotect %d", prof.name, err);
		CHECK(rtpLen == rtp.size() && std::memcmp(srtp.data(), rtp.data(), rtpLen) == 0, "%s round trip", prof.name);
	}

	// Separate output buffer for unprotect, tampering and replay.
	{
		const auto rtp = RtpPacket(2000, 0x11223344, 100);
		std::vector<uint8_t> srtp(rtp.size() + SRTP_MAX_TRAILER_LEN);
		size_t srtpLen = srtp.size();
		CHECK(srtp_protect(tx, rtp.data(), rtp.size(), srtp.data(), &srtpLen, 0) == srtp_err_status_ok, "%s protect", prof.name);

		std::vector<uint8_t> tampered(srtp.begin(), srtp.begin() + srtpLen);
		tampered[20] ^= 0x01;
		size_t outLen = tampered.size();
		srtp_err_status_t err = srtp_unprotect(rx, tampered.data(), tampered.size(), tampered.data(), &outLen);
		CHECK(err == srtp_err_status_auth_fail, "%s tampered gave %d", prof.name, err);

		std::vector<uint8_t> out(srtpLen);
		outLen = out.size();
		err = srtp_unprotect(rx, srtp.data(), srtpLen, out.data(), &outLen);
		CHECK(err == srtp_err_status_ok && outLen == rtp.size() && std::memcmp(out.data(), rtp.data(), outLen) == 0,
		  "%s unprotect to separate buffer %d", prof.name, err);

		outLen = out.size();
		err = srtp_unprotect(rx, srtp.data(), srtpLen, out.data(), &outLen);
		CHECK(err == srtp_err_status_replay_fail, "%s replay gave %d", prof.name, err);

		std::vector<uint8_t> small(srtpLen - 1);
		outLen = small.size();
		err = srtp_unprotect(rx, srtp.data(), srtpLen, small.data(), &outLen);
		CHECK(err == srtp_err_status_buffer_small, "%s small unprotect buffer gave %d", prof.name, err);
	}

	// Output buffer too small by one byte, then exactly big enough.
	{
		const auto rtp = RtpPacket(3000, 0x11223344, 50);
		std::vector<uint8_t> srtp(rtp.size() + prof.rtpTag);
		size_t srtpLen = srtp.size() - 1;
		srtp_err_status_t err = srtp_protect(tx, rtp.data(), rtp.size(), srtp.data(), &srtpLen, 0);
		CHECK(err == srtp_err_status_buffer_small, "%s small buffer gave %d", prof.name, err);
		srtpLen = srtp.size();
		err = srtp_protect(tx, rtp.data(), rtp.size(), srtp.data(), &srtpLen, 0);
		CHECK(err == srtp_err_status_ok && srtpLen == srtp.size(), "%s exact buffer gave %d", prof.name, err);
		srtpLen = srtp.size();
		err = srtp_protect(tx, rtp.data(), rtp.size(), srtp.data(), &srtpLen, 1);
		CHECK(err != srtp_err_status_ok, "%s mki_index 1 must fail", prof.name);
	}

	// RTCP round trip and too-small buffer.
	for (int i = 0; i < 3; ++i)
	{
		const auto rtcp = RtcpSenderReport(0x11223344);
		std::vector<uint8_t> srtcp(rtcp.size() + SRTP_MAX_TRAILER_LEN + 4);
		size_t srtcpLen = rtcp.size() + prof.rtcpTrailer - 1;
		srtp_err_status_t err = srtp_protect_rtcp(tx, rtcp.data(), rtcp.size(), srtcp.data(), &srtcpLen, 0);
		CHECK(err == srtp_err_status_buffer_small, "%s rtcp small buffer gave %d", prof.name, err);
		srtcpLen = srtcp.size();
		err = srtp_protect_rtcp(tx, rtcp.data(), rtcp.size(), srtcp.data(), &srtcpLen, 0);
		CHECK(err == srtp_err_status_ok, "%s protect_rtcp %d", prof.name, err);
		CHECK(srtcpLen == rtcp.size() + prof.rtcpTrailer, "%s srtcp len %zu", prof.name, srtcpLen);

		std::vector<uint8_t> copy(srtcp.begin(), srtcp.begin() + srtcpLen);
		size_t outLen = copy.size();
		err = srtp_unprotect_rtcp(bad, copy.data(), copy.size(), copy.data(), &outLen);
		CHECK(err == srtp_err_status_auth_fail, "%s rtcp bad key gave %d", prof.name, err);

		size_t rtcpLen = srtcpLen;
		err = srtp_unprotect_rtcp(rx, srtcp.data(), srtcpLen, srtcp.data(), &rtcpLen);
		CHECK(err == srtp_err_status_ok, "%s unprotect_rtcp %d", prof.name, err);
		CHECK(rtcpLen == rtcp.size() && std::memcmp(srtcp.data(), rtcp.data(), rtcpLen) == 0, "%s rtcp round trip", prof.name);
	}

	// Stream removal (mediasoup passes the SSRC in network order).
	CHECK(srtp_stream_remove(tx, htonl(0x11223344)) == srtp_err_status_ok, "%s stream_remove", prof.name);
	CHECK(srtp_stream_remove(tx, htonl(0x55667788)) != srtp_err_status_ok, "%s stream_remove unknown", prof.name);

	CHECK(srtp_dealloc(tx) == srtp_err_status_ok, "dealloc");
	CHECK(srtp_dealloc(rx) == srtp_err_status_ok, "dealloc");
	CHECK(srtp_dealloc(bad) == srtp_err_status_ok, "dealloc");

	if (failures == before)
		std::printf("ok %s\n", prof.name);
}

static void TestPolicyErrors()
{
	const int before = failures;
	srtp_policy_t policy{ nullptr };
	CHECK(srtp_policy_create(&policy) == srtp_err_status_ok, "create");
	CHECK(srtp_policy_set_profile(policy, srtp_profile_aes128_cm_sha1_80) == srtp_err_status_ok, "profile");
	const auto key = RandomBytes(64, 3);
	CHECK(srtp_policy_add_key(policy, key.data(), 15, key.data() + 15, 14, nullptr, 0) == srtp_err_status_bad_param, "short key");
	const uint8_t mki[4] = { 1, 2, 3, 4 };
	CHECK(srtp_policy_add_key(policy, key.data(), 16, key.data() + 16, 14, mki, 4) == srtp_err_status_bad_param, "mki unsupported");
	CHECK(srtp_policy_set_window_size(policy, 10) == srtp_err_status_bad_param, "window too small");
	srtp_t session{ nullptr };
	CHECK(srtp_create(&session, policy) == srtp_err_status_bad_param, "create without key");
	srtp_policy_destroy(policy);
	if (failures == before)
		std::printf("ok policy errors\n");
}

int main()
{
	std::printf("libsrtp: %s\n", srtp_get_version_string());
	if (srtp_init() != srtp_err_status_ok)
	{
		std::printf("FAIL srtp_init\n");
		return 1;
	}
	for (const auto& prof : Profiles)
		TestProfile(prof);
	TestPolicyErrors();
	srtp_shutdown();
	std::printf(failures ? "FAILED %d checks\n" : "ALL OK\n", failures);
	return failures ? 1 : 0;
}
