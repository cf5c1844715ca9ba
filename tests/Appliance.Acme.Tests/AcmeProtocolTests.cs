using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Appliance.Acme.Protocol;

namespace Appliance.Acme.Tests;

public sealed class AcmeProtocolTests
{
    [Fact]
    public void TheJwsBeforeRegistrationCarriesTheJwkAndVerifiesAsEs256()
    {
        using var key = AcmeAccountKey.Create();
        var jws = key.Sign("{\"a\":1}"u8.ToArray(), "https://ca.example/new-acct", "n0nce", accountUrl: null);
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(jws.Protected));
        Assert.Equal("ES256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("n0nce", header.RootElement.GetProperty("nonce").GetString());
        Assert.Equal("https://ca.example/new-acct", header.RootElement.GetProperty("url").GetString());
        Assert.Equal(key.Jwk.X, header.RootElement.GetProperty("jwk").GetProperty("x").GetString());
        Assert.False(header.RootElement.TryGetProperty("kid", out _));
        Assert.Equal(64, Base64Url.DecodeFromChars(jws.Signature).Length); // r||s, RFC 7518 section 3.4
        Assert.True(key.Verify(jws));
    }

    [Fact]
    public void TheJwsAfterRegistrationCarriesTheAccountUrlAsKidAndPostAsGetSignsAnEmptyPayload()
    {
        using var key = AcmeAccountKey.Create();
        var jws = key.Sign(null, "https://ca.example/order/1", "n", "https://ca.example/acct/7");
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(jws.Protected));
        Assert.Equal("https://ca.example/acct/7", header.RootElement.GetProperty("kid").GetString());
        Assert.False(header.RootElement.TryGetProperty("jwk", out _));
        Assert.Equal("", jws.Payload);
        Assert.True(key.Verify(jws));
    }

    [Fact]
    public void TheThumbprintIsRfc7638OverTheOrderedMembersAndMakesTheKeyAuthorization()
    {
        using var key = AcmeAccountKey.Create();
        var canonical = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{key.Jwk.X}\",\"y\":\"{key.Jwk.Y}\"}}";
        var expected = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(canonical)));
        Assert.Equal(expected, key.Thumbprint);
        Assert.Equal("tok." + expected, key.KeyAuthorization("tok"));
        using var again = AcmeAccountKey.FromPkcs8(key.ExportPkcs8());
        Assert.Equal(key.Thumbprint, again.Thumbprint);
    }

    [Fact]
    public void TheExternalAccountBindingIsAnHs256MacOverTheAccountJwk()
    {
        using var key = AcmeAccountKey.Create();
        var macKey = RandomNumberGenerator.GetBytes(32);
        var eab = key.ExternalAccountBinding("kid-9", macKey, "https://ca.example/new-acct");
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(eab.Protected));
        Assert.Equal("HS256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("kid-9", header.RootElement.GetProperty("kid").GetString());
        Assert.Equal("https://ca.example/new-acct", header.RootElement.GetProperty("url").GetString());
        Assert.False(header.RootElement.TryGetProperty("nonce", out _)); // RFC 8555 section 7.3.4: no nonce
        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(eab.Payload));
        Assert.Equal(key.Jwk.Y, payload.RootElement.GetProperty("y").GetString());
        var mac = HMACSHA256.HashData(macKey, Encoding.ASCII.GetBytes(eab.Protected + "." + eab.Payload));
        Assert.Equal(Base64Url.EncodeToString(mac), eab.Signature);
    }

    [Fact]
    public void AProblemDocumentWithSubproblemsIsParsedAndDescribedForTheAdmin()
    {
        const string json = """
            {"type":"urn:ietf:params:acme:error:malformed","detail":"Some of the identifiers requested were rejected","status":400,
             "subproblems":[{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"Invalid underscore in DNS name \"_example.org\"",
               "identifier":{"type":"dns","value":"_example.org"}},
              {"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"This CA will not issue for \"example.net\"",
               "identifier":{"type":"dns","value":"example.net"}}]}
            """;
        var problem = JsonSerializer.Deserialize(json, AcmeJson.Default.AcmeProblem)!;
        Assert.True(problem.Is(AcmeErrors.Malformed));
        Assert.Equal(400, problem.Status);
        Assert.Equal(2, problem.Subproblems!.Count);
        Assert.Equal(AcmeErrors.RejectedIdentifier, problem.Subproblems[0].Type);
        Assert.Equal(new AcmeIdentifier("dns", "example.net"), problem.Subproblems[1].Identifier);
        Assert.Equal("Some of the identifiers requested were rejected (malformed): _example.org: Invalid underscore in DNS name \"_example.org\" (rejectedIdentifier); "
            + "example.net: This CA will not issue for \"example.net\" (rejectedIdentifier)", problem.Describe());
    }

    [Fact]
    public void LinkHeadersWithRelAlternateAreResolvedAgainstTheRequestUrl()
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("Link", "<https://ca.example/dir>;rel=\"index\", </cert/1/alt/1>;rel=\"alternate\"");
        response.Headers.TryAddWithoutValidation("Link", "<https://ca.example/cert/1/alt/2>; rel=alternate");
        Assert.Equal(["https://ca.example/cert/1/alt/1", "https://ca.example/cert/1/alt/2"],
            AcmeClient.LinkHeaders(response, "alternate", "https://ca.example/cert/1"));
    }

    [Theory]
    [InlineData("example.com", "dns")]
    [InlineData("192.0.2.7", "ip")]
    [InlineData("2001:db8::1", "ip")]
    public void NamesBecomeDnsOrIpIdentifiers(string name, string type) => Assert.Equal(type, AcmeIdentifier.For(name).Type);
}
