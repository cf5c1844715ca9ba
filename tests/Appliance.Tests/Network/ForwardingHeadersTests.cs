using System.Net;
using Appliance.Network;

namespace Appliance.Tests.Network;

public sealed class ForwardingHeadersTests
{
    [Theory]
    [InlineData("Forwarded", true)]
    [InlineData("X-Forwarded-For", true)]
    [InlineData("x_forwarded_for", true)]
    [InlineData("X-FORWARDED-HOST", true)]
    [InlineData("X-Forwarded", true)]
    [InlineData("X-Real-IP", true)]
    [InlineData("X_Real_Ip", true)]
    [InlineData("True-Client-IP", true)]
    [InlineData("X-Client-IP", true)]
    [InlineData("X-Original-URL", true)]
    [InlineData("x_original_host", true)]
    [InlineData("CF-Connecting-IP", true)]
    [InlineData("X-Forwarded-Prefix", true)]
    [InlineData("Forwarded-For", false)]
    [InlineData("X-Request-Id", false)]
    [InlineData("Accept", false)]
    [InlineData("X-Originals", false)]
    public void KnowsWhichFieldsAreAClientsClaimAboutItsOrigin(string name, bool claim) =>
        Assert.Equal(claim, ForwardingHeaders.IsClientClaim(name));

    [Theory]
    [InlineData("192.0.2.60", "site.test", "for=192.0.2.60;proto=https;host=site.test")]
    [InlineData("::ffff:192.0.2.60", "site.test", "for=192.0.2.60;proto=https;host=site.test")]
    [InlineData("2001:db8::17", "site.test:8443", "for=\"[2001:db8::17]\";proto=https;host=\"site.test:8443\"")]
    [InlineData("fe80::1%2", null, "for=\"[fe80::1]\";proto=https")]
    public void WritesForwardedAsRfc7239Says(string client, string? host, string expected) =>
        Assert.Equal(expected, ForwardingHeaders.Forwarded(IPAddress.Parse(client), host));
}
