using Appliance.Acme.Caa;

namespace Appliance.Acme.Tests;

/// <summary>The CAA decision of RFC 8659 section 4 and the CAA and DNS wire formats, on values and annotated bytes.</summary>
public sealed class CaaPolicyTests
{
    private static readonly string[] Pebble = ["pebble.test"];

    private static CaaRecordSet At(string domain, params (string Tag, string Value)[] records) =>
        new(domain, records.Select(r => new CaaRecord(0, r.Tag, r.Value)).ToList());

    [Fact]
    public void NoCaaRecordsAllowAnyCa() =>
        Assert.True(CaaPolicy.Decide("www.example.com", CaaRecordSet.Empty, Pebble).Allowed);

    [Theory]
    [InlineData("pebble.test")]
    [InlineData("PEBBLE.test; accounturi=https://ca.test/acct/1")]
    [InlineData(" pebble.test. ")]
    public void AnIssuePropertyNamingTheCaAllowsIt(string value) =>
        Assert.True(CaaPolicy.Decide("www.example.com", At("www.example.com", ("issue", "letsencrypt.org"), ("issue", value)), Pebble).Allowed);

    [Fact]
    public void IssuePropertiesNamingOtherCasRefuseWithTheNamesAndTheRecordToAdd()
    {
        var verdict = CaaPolicy.Decide("www.example.com", At("example.com", ("issue", "letsencrypt.org"), ("iodef", "mailto:sec@example.com")), Pebble);
        Assert.False(verdict.Allowed);
        Assert.Equal("The CAA records of example.com (inherited by www.example.com) allow only letsencrypt.org to issue certificates, not this ACME server (pebble.test). "
            + "Add the DNS record example.com. CAA 0 issue \"pebble.test\", or request the certificate from a CA the records allow.", verdict.Refusal);
    }

    [Fact]
    public void AnEmptyIssuerNameForbidsEveryCa()
    {
        var verdict = CaaPolicy.Decide("example.com", At("example.com", ("issue", ";")), Pebble);
        Assert.False(verdict.Allowed);
        Assert.StartsWith("The CAA records of example.com allow no CA at all to issue certificates, not this ACME server (pebble.test).", verdict.Refusal);
    }

    [Fact]
    public void OnlyIodefOrOtherPropertiesAllowAnyCa() =>
        Assert.True(CaaPolicy.Decide("example.com", At("example.com", ("iodef", "mailto:sec@example.com"), ("contactemail", "a@example.com")), Pebble).Allowed);

    [Fact]
    public void AnUnknownCriticalPropertyRefusesEvenWhenIssueAllowsTheCa()
    {
        var set = new CaaRecordSet("example.com", [new CaaRecord(0, "issue", "pebble.test"), new CaaRecord(128, "tbs", "whatever")]);
        var verdict = CaaPolicy.Decide("example.com", set, Pebble);
        Assert.False(verdict.Allowed);
        Assert.StartsWith("The CAA records of example.com hold the critical property 'tbs', which no CA may ignore", verdict.Refusal);
    }

    [Fact]
    public void AnUnknownPropertyWithoutTheCriticalFlagIsIgnored() =>
        Assert.True(CaaPolicy.Decide("example.com", new CaaRecordSet("example.com", [new CaaRecord(0, "tbs", "x")]), Pebble).Allowed);

    [Fact]
    public void AKnownPropertyMarkedCriticalIsHonouredNotRefused() =>
        Assert.True(CaaPolicy.Decide("example.com", new CaaRecordSet("example.com", [new CaaRecord(128, "issue", "pebble.test")]), Pebble).Allowed);

    [Theory]
    // issuewild present: it alone decides for a wildcard (RFC 8659 section 4.3), and is ignored for a single name.
    [InlineData("*.example.com", "letsencrypt.org", "pebble.test", true)]
    [InlineData("*.example.com", "pebble.test", "letsencrypt.org", false)]
    [InlineData("www.example.com", "pebble.test", "letsencrypt.org", true)]
    [InlineData("www.example.com", "letsencrypt.org", "pebble.test", false)]
    public void IssuewildDecidesForWildcardsAndIssueForSingleNames(string name, string issue, string issuewild, bool allowed) =>
        Assert.Equal(allowed, CaaPolicy.Decide(name, At("example.com", ("issue", issue), ("issuewild", issuewild)), Pebble).Allowed);

    [Fact]
    public void AWildcardWithoutIssuewildFollowsIssue()
    {
        var verdict = CaaPolicy.Decide("*.example.com", At("example.com", ("issue", "letsencrypt.org")), Pebble);
        Assert.False(verdict.Allowed);
        Assert.StartsWith("The CAA records of example.com allow only letsencrypt.org to issue wildcard certificates", verdict.Refusal);
    }

    [Fact]
    public void TheCaMayHaveSeveralIdentities() =>
        Assert.True(CaaPolicy.Decide("example.com", At("example.com", ("issue", "ca.example.net")), ["pebble.test", "ca.example.net"]).Allowed);

    [Fact]
    public void CaaRdataIsFlagsTagLengthTagAndValue()
    {
        // 0x80 (issuer critical), tag length 5, "issue", value "ca.test; account=1"
        byte[] rdata = [0x80, 0x05, .. "issue"u8, .. "ca.test; account=1"u8];
        Assert.Equal(new CaaRecord(128, "issue", "ca.test; account=1"), CaaRecord.Parse(rdata));
        Assert.True(CaaRecord.Parse(rdata).Critical);
        Assert.Throws<DnsFormatException>(() => CaaRecord.Parse([0x00, 0x09, .. "issue"u8]));
        Assert.Throws<DnsFormatException>(() => CaaRecord.Parse([0x00, 0x00]));
    }

    [Fact]
    public void AQueryIsAHeaderWithRecursionDesiredAndOneQuestion()
    {
        byte[] expected =
        [
            0x12, 0x34, 0x01, 0x00, // id, flags: RD
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // QDCOUNT 1
            0x03, .. "www"u8, 0x07, .. "example"u8, 0x03, .. "com"u8, 0x00,
            0x01, 0x01, 0x00, 0x01, // QTYPE 257 (CAA), QCLASS IN
        ];
        Assert.Equal(expected, DnsMessage.Query(0x1234, "www.example.com.", DnsType.Caa));
        Assert.Throws<DnsFormatException>(() => DnsMessage.Query(1, "a..example.com", DnsType.Caa));
        Assert.Throws<DnsFormatException>(() => DnsMessage.Query(1, new string('a', 64) + ".com", DnsType.Caa));
    }

    [Fact]
    public void AResponseIsParsedWithCompressedNamesAndCnameTargets()
    {
        byte[] response =
        [
            0x12, 0x34, 0x81, 0x80, // id, flags: QR, RD, RA, NOERROR
            0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, // one question, two answers
            0x03, .. "www"u8, 0x07, .. "example"u8, 0x03, .. "com"u8, 0x00, 0x01, 0x01, 0x00, 0x01, // offset 12: www.example.com CAA IN
            0xC0, 0x0C, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x06, // www.example.com CNAME, TTL 60, 6 bytes:
            0x03, .. "cdn"u8, 0xC0, 0x10, // cdn + pointer to example.com (offset 16)
            0xC0, 0x2D, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x0E, // cdn.example.com (offset 45) CAA, 14 bytes:
            0x00, 0x05, .. "issue"u8, .. "ca.test"u8,
        ];
        var parsed = DnsMessage.Parse(response);
        Assert.Equal((0x1234, DnsResponse.NoError, false), (parsed.Id, parsed.ResponseCode, parsed.Truncated));
        Assert.Equal(2, parsed.Answers.Count);
        Assert.Equal(("www.example.com", DnsType.Cname, "cdn.example.com"), (parsed.Answers[0].Name, parsed.Answers[0].Type, parsed.Answers[0].Target));
        Assert.Equal(("cdn.example.com", DnsType.Caa), (parsed.Answers[1].Name, parsed.Answers[1].Type));
        Assert.Equal(new CaaRecord(0, "issue", "ca.test"), CaaRecord.Parse(parsed.Answers[1].Data));
    }

    [Fact]
    public void APointerLoopOrAShortMessageIsMalformed()
    {
        byte[] loop = [0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1];
        Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(loop));
        Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(new byte[5]));
    }

    [Theory]
    [InlineData("nameserver 192.0.2.53\nnameserver 192.0.2.54\n", "192.0.2.53:53")]
    [InlineData("# generated\nsearch example.com\n\tnameserver   ::1\n", "[::1]:53")]
    [InlineData("options edns0\n", "127.0.0.1:53")]
    public void TheSystemResolverIsTheFirstNameserverOfResolvConf(string text, string expected) =>
        Assert.Equal(expected, DnsClient.SystemServer(text).ToString());
}
