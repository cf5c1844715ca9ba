using System.Security.Cryptography.X509Certificates;
using Appliance.Acme.Protocol;
using Appliance.Acme.Tests.Infrastructure;
using Appliance.Certificates.Formats;

namespace Appliance.Acme.Tests;

/// <summary>The whole RFC 8555 flow against pebble, with real http-01 validation through the test DNS and HTTP listener.</summary>
[Collection(PebbleCollection.Name)]
public sealed class AcmeIssuerTests(PebbleFixture peers)
{
    private static string Host() => $"h{Guid.NewGuid():N}"[..12] + ".acme.test";

    private AcmeClient Client(PebbleServer pebble, AcmeAccountKey key, HttpClient http) =>
        new(http, pebble.DirectoryUrl, key, null, TimeProvider.System) { DefaultPollInterval = TimeSpan.FromMilliseconds(200) };

    private async Task<(IssuedCertificate Issued, X509Certificate2Collection Chain)> IssueAsync(PebbleServer pebble, string[] names, string keyType,
        ExternalAccountBinding? binding = null, string? preferredChainIssuer = null)
    {
        using var http = peers.CreateHttpClient();
        using var accountKey = AcmeAccountKey.Create();
        var client = Client(pebble, accountKey, http);
        await client.RegisterAsync("admin@example.com", binding);
        using var key = KeyFactory.Generate(keyType);
        var issued = await new AcmeIssuer(client, peers.Http.Store, TimeProvider.System).IssueAsync(new IssueRequest(names, key, PreferredChainIssuer: preferredChainIssuer));
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(issued.ChainPem);
        return (issued, chain);
    }

    [Theory]
    [InlineData("ecdsa-p256")]
    [InlineData("ecdsa-p384")]
    [InlineData("rsa-2048")]
    public async Task IssuesACertificateForAHostnameAfterRealHttp01Validation(string keyType)
    {
        var host = Host();
        var before = peers.Http.Requests;
        var (_, chain) = await IssueAsync(peers.Plain, [host, "www." + host], keyType);

        Assert.True(chain.Count >= 2, $"the chain has {chain.Count} certificates");
        var leaf = chain[0];
        var names = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames().ToList();
        Assert.Equal([host, "www." + host], names.Order());
        Assert.Equal(leaf.Issuer, chain[1].Subject);
        Assert.True(peers.Http.Requests >= before + 2, "pebble fetched both challenge answers from our listener");
        Assert.Equal(0, peers.Http.Store.Count);
    }

    [Fact]
    public async Task DownloadsTheAlternateChainsAndKeepsTheDefaultOneUnlessAnotherRootIsPreferred()
    {
        var (issued, chain) = await IssueAsync(peers.LongChains, [Host()], "ecdsa-p256");
        Assert.Equal(2, issued.Chains.Count);
        Assert.Equal(issued.Chains[0].ChainPem, issued.ChainPem);
        Assert.Equal(4, chain.Count); // leaf and three intermediates up to (not including) the root
        for (var i = 1; i < chain.Count; i++) Assert.Equal(chain[i - 1].Issuer, chain[i].Subject);

        var alternate = new X509Certificate2Collection();
        alternate.ImportFromPem(issued.Chains[1].ChainPem);
        var alternateRoot = alternate[^1].GetNameInfo(X509NameType.SimpleName, forIssuer: true);
        Assert.NotEqual(chain[^1].GetNameInfo(X509NameType.SimpleName, forIssuer: true), alternateRoot);

        var (preferred, preferredChain) = await IssueAsync(peers.LongChains, [Host()], "ecdsa-p256", preferredChainIssuer: alternateRoot);
        Assert.Equal(preferred.Chains[1].ChainPem, preferred.ChainPem);
        Assert.Equal(alternateRoot, preferredChain[^1].GetNameInfo(X509NameType.SimpleName, forIssuer: true));
    }

    [Fact]
    public async Task IssuesACertificateForAnIpAddressIdentifier()
    {
        var (_, chain) = await IssueAsync(peers.Plain, ["127.0.0.1"], "ecdsa-p256");
        var ip = chain[0].Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateIPAddresses().Single();
        Assert.Equal("127.0.0.1", ip.ToString());
    }

    [Fact]
    public async Task SucceedsWhenTheServerRejectsHalfOfAllNonces()
    {
        var (_, chain) = await IssueAsync(peers.NonceRejecting, [Host()], "ecdsa-p256");
        Assert.True(chain.Count >= 2);
    }

    [Fact]
    public async Task RegistersWithTheRightExternalAccountBindingAndIssues()
    {
        var (_, chain) = await IssueAsync(peers.EabRequired, [Host()], "ecdsa-p256", new ExternalAccountBinding(PebbleServer.EabKeyId, PebbleServer.EabHmacKey));
        Assert.True(chain.Count >= 2);
    }

    [Fact]
    public async Task AWrongExternalAccountBindingKeyFailsInWords()
    {
        using var http = peers.CreateHttpClient();
        using var key = AcmeAccountKey.Create();
        var wrong = new ExternalAccountBinding(PebbleServer.EabKeyId, "b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH");
        var error = await Assert.ThrowsAsync<AcmeException>(() => Client(peers.EabRequired, key, http).RegisterAsync("admin@example.com", wrong));
        Assert.Equal(AcmeFailure.Refused, error.Reason);
        Assert.Equal(AcmeErrors.Unauthorized, error.Problem?.Type);
        Assert.StartsWith($"The ACME server refused POST {peers.EabRequired.DirectoryUrl.GetLeftPart(UriPartial.Authority)}/sign-me-up: ", error.Message);
        Assert.EndsWith("(unauthorized). Check the EAB key id and HMAC key, or that the account is allowed to request this name.", error.Message);
    }

    [Fact]
    public async Task RegisteringWithoutBindingWhereItIsRequiredSaysWhatToEnter()
    {
        using var http = peers.CreateHttpClient();
        using var key = AcmeAccountKey.Create();
        var error = await Assert.ThrowsAsync<AcmeException>(() => Client(peers.EabRequired, key, http).RegisterAsync("admin@example.com", null));
        Assert.Equal(AcmeFailure.NotPossible, error.Reason);
        Assert.Equal($"The ACME server {peers.EabRequired.DirectoryUrl} requires external account binding; enter the EAB key id and HMAC key your CA gave you.", error.Message);
    }

    [Fact]
    public async Task AChallengeAnsweredWronglyFailsValidationWithTheCasProblem()
    {
        using var http = peers.CreateHttpClient();
        using var accountKey = AcmeAccountKey.Create();
        var client = Client(peers.Plain, accountKey, http);
        await client.RegisterAsync(null, null);
        using var key = KeyFactory.Generate("ecdsa-p256");
        var host = Host();
        var error = await Assert.ThrowsAsync<AcmeException>(() =>
            new AcmeIssuer(client, new WrongAnswers(peers.Http.Store), TimeProvider.System).IssueAsync(new IssueRequest([host], key)));
        Assert.Equal(AcmeFailure.ValidationFailed, error.Reason);
        Assert.Equal(AcmeErrors.Unauthorized, error.Problem?.Type);
        Assert.StartsWith($"The CA could not validate {host} over http-01: ", error.Message);
        Assert.EndsWith("Make sure the hostname resolves to this appliance and port 80 is reachable from the CA.", error.Message);
    }

    [Fact]
    public async Task AnUnreachableDirectorySaysSoWithTheUrl()
    {
        using var http = peers.CreateHttpClient();
        using var key = AcmeAccountKey.Create();
        var port = ExternalTools.FreeTcpPort();
        var client = new AcmeClient(http, new Uri($"https://127.0.0.1:{port}/dir"), key, null, TimeProvider.System);
        var error = await Assert.ThrowsAsync<AcmeException>(() => client.RegisterAsync(null, null));
        Assert.Equal(AcmeFailure.Unreachable, error.Reason);
        Assert.StartsWith($"The ACME server could not be reached at https://127.0.0.1:{port}/dir: ", error.Message);
    }

    // Pebble never sends null list items; a hostile or broken server may, so these answers are scripted, through the real client and parser.
    [Fact]
    public async Task AnOrderListingANullAuthorizationIsAMalformedAnswerInWords()
    {
        var (issuer, server) = ScriptedIssuer("""{"status":"pending","identifiers":[{"type":"dns","value":"a.example"}],"authorizations":[null],"finalize":"https://ca.test/order/1/finalize"}""");

        using var key = KeyFactory.Generate("ecdsa-p256");
        var error = await Assert.ThrowsAsync<AcmeException>(() => issuer.IssueAsync(new IssueRequest(["a.example"], key)));

        Assert.Equal(AcmeFailure.MalformedResponse, error.Reason);
        Assert.Equal("The ACME server's order lists an authorization without a URL; the appliance starts a new order later.", error.Message);
        Assert.DoesNotContain(server.Requests, r => r.Route.StartsWith("POST /authz", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAuthorizationListingANullChallengeIsPassedOverAndTheOffersNamed()
    {
        var (issuer, server) = ScriptedIssuer("""{"status":"pending","identifiers":[{"type":"dns","value":"a.example"}],"authorizations":["https://ca.test/authz/1"],"finalize":"https://ca.test/order/1/finalize"}""");
        server.On("POST /authz/1", _ => ScriptedAcmeHandler.Json("""{"status":"pending","identifier":{"type":"dns","value":"a.example"},"challenges":[null,{"type":"dns-01","url":"https://ca.test/chall/1","token":"t1"}]}"""));

        using var key = KeyFactory.Generate("ecdsa-p256");
        var error = await Assert.ThrowsAsync<AcmeException>(() => issuer.IssueAsync(new IssueRequest(["a.example"], key)));

        Assert.Equal(AcmeFailure.NotPossible, error.Reason);
        Assert.Equal("The ACME server offers no http-01 challenge for a.example (offered: , dns-01); this appliance answers http-01 only.", error.Message);
    }

    private static (AcmeIssuer Issuer, ScriptedAcmeHandler Server) ScriptedIssuer(string order)
    {
        var server = new ScriptedAcmeHandler()
            .On("GET /dir", _ => ScriptedAcmeHandler.Json(ScriptedAcmeHandler.Directory()), repeat: true)
            .On("POST /order", _ => ScriptedAcmeHandler.Json(order, System.Net.HttpStatusCode.Created, location: "https://ca.test/order/1"));
        var client = new AcmeClient(new HttpClient(server), new Uri(ScriptedAcmeHandler.Base + "/dir"), AcmeAccountKey.Create(), "https://ca.test/acct/1", TimeProvider.System);
        return (new AcmeIssuer(client, new Http01ChallengeStore(), TimeProvider.System), server);
    }

    private sealed class WrongAnswers(IChallengeResponder inner) : IChallengeResponder
    {
        public void Publish(string token, string keyAuthorization) => inner.Publish(token, keyAuthorization + "x");
        public void Withdraw(string token) => inner.Withdraw(token);
    }
}
