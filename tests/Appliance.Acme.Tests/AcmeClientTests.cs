using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Acme.Protocol;
using Appliance.Acme.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Appliance.Acme.Tests.Infrastructure.ScriptedAcmeHandler;

namespace Appliance.Acme.Tests;

/// <summary>The client against a scripted ACME server: RFC 9773 renewal information, profiles, nonces and bad peers.</summary>
public sealed class AcmeClientTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static (AcmeClient Client, ScriptedAcmeHandler Server) Connect(string directory, string? accountUrl = "https://ca.test/acct/1")
    {
        var server = new ScriptedAcmeHandler().On("GET /dir", _ => Json(directory), repeat: true);
        var client = new AcmeClient(new HttpClient(server), new Uri(Base + "/dir"), AcmeAccountKey.Create(), accountUrl, new FakeTimeProvider(Now));
        return (client, server);
    }

    private static X509Certificate2 CertificateWithAki(byte[] keyIdentifier, byte[] serial)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=renew.example", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(keyIdentifier));
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var generator = X509SignatureGenerator.CreateForECDsa(issuerKey);
        return request.Create(new X500DistinguishedName("CN=Issuer"), generator, Now.AddDays(-10), Now.AddDays(80), serial);
    }

    [Fact]
    public void TheRenewalInfoCertIdIsTheAuthorityKeyIdAndSerialInBase64Url()
    {
        // RFC 9773 section 4.1 example: keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4, serial 00:87:65:43:21.
        var certificate = CertificateWithAki(Convert.FromHexString("69885B6B87464041E1B37B847BA0AE2CDE01C8D4"), Convert.FromHexString("0087654321"));
        Assert.Equal("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", RenewalInfo.CertificateIdentifier(certificate));
    }

    [Fact]
    public async Task RenewalInfoIsFetchedFromTheDirectorysEndpointWithItsRetryAfter()
    {
        var (client, server) = Connect(Directory(",\"renewalInfo\":\"https://ca.test/renewal-info\""));
        server.On("GET /renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", _ =>
        {
            var response = Json("""{"suggestedWindow":{"start":"2026-05-01T00:00:00Z","end":"2026-05-03T00:00:00Z"},"explanationURL":"https://ca.test/why"}""");
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromHours(21600 / 3600));
            return response;
        });
        var info = await client.GetRenewalInfoAsync(CertificateWithAki(Convert.FromHexString("69885B6B87464041E1B37B847BA0AE2CDE01C8D4"), Convert.FromHexString("0087654321")));
        Assert.NotNull(info);
        Assert.Equal(new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero), info.SuggestedWindow.Start);
        Assert.Equal(new DateTimeOffset(2026, 5, 3, 0, 0, 0, TimeSpan.Zero), info.SuggestedWindow.End);
        Assert.Equal(TimeSpan.FromHours(6), info.RetryAfter);
        Assert.Equal(Now, info.FetchedAt);
    }

    [Fact]
    public async Task WithoutRenewalInfoInTheDirectoryNoneIsFetched()
    {
        var (client, server) = Connect(Directory());
        Assert.Null(await client.GetRenewalInfoAsync(CertificateWithAki([1, 2, 3], [5])));
        Assert.DoesNotContain(server.Requests, r => r.Route.Contains("renewal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheDirectorysProfilesAreReadAndTheChosenProfileAndReplacesGoIntoNewOrder()
    {
        var (client, server) = Connect(Directory(",\"meta\":{\"profiles\":{\"classic\":\"The same as always\",\"shortlived\":\"Six days\"},\"termsOfService\":\"https://ca.test/tos\"}"));
        server.On("POST /order", _ => Json("""{"status":"pending","authorizations":[],"finalize":"https://ca.test/fin/1","profile":"shortlived"}""",
            HttpStatusCode.Created, location: "https://ca.test/order/1"));
        var directory = await client.GetDirectoryAsync();
        Assert.Equal(["classic", "shortlived"], directory.Meta!.Profiles!.Keys.Order());
        var (url, order) = await client.NewOrderAsync([new AcmeIdentifier("dns", "a.example")], "shortlived", "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
        Assert.Equal("https://ca.test/order/1", url);
        Assert.Equal("shortlived", order.Profile);
        Assert.Equal("""{"identifiers":[{"type":"dns","value":"a.example"}],"profile":"shortlived","replaces":"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"}""",
            server.Requests.Single(r => r.Route == "POST /order").Payload);
    }

    [Fact]
    public async Task ABadNonceIsRetriedWithTheNonceFromTheRefusal()
    {
        var (client, server) = Connect(Directory());
        server.On("POST /order", _ => Problem(AcmeErrors.BadNonce, "JWS has an invalid anti-replay nonce", HttpStatusCode.BadRequest))
              .On("POST /order", _ => Json("""{"status":"pending"}""", HttpStatusCode.Created, location: "https://ca.test/order/2"));
        var (url, _) = await client.NewOrderAsync([new AcmeIdentifier("dns", "a.example")], null, null);
        Assert.Equal("https://ca.test/order/2", url);
        var posts = server.Requests.Where(r => r.Route == "POST /order").ToList();
        Assert.Equal(2, posts.Count);
        Assert.NotEqual(posts[0].Nonce, posts[1].Nonce);
        Assert.Equal("nonce-2", posts[1].Nonce); // the Replay-Nonce of the badNonce answer itself
    }

    [Fact]
    public async Task ARateLimitRefusalCarriesTheRetryAfterAndSaysWhen()
    {
        var (client, server) = Connect(Directory());
        server.On("POST /order", _ =>
        {
            var response = Problem(AcmeErrors.RateLimited, "too many certificates already issued", (HttpStatusCode)429);
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(3600));
            return response;
        });
        var error = await Assert.ThrowsAsync<AcmeException>(() => client.NewOrderAsync([new AcmeIdentifier("dns", "a.example")], null, null));
        Assert.Equal(AcmeFailure.RateLimited, error.Reason);
        Assert.Equal(TimeSpan.FromHours(1), error.RetryAfter);
        Assert.Equal("The ACME server refused POST https://ca.test/order: too many certificates already issued (rateLimited). The CA's rate limit applies; the appliance tries again after 60 minutes.", error.Message);
    }

    [Theory]
    [InlineData("http://ca.test/authz/1", "it is plain http while the directory is https, so anyone on the path could read and change the exchange")]
    [InlineData("ftp://ca.test/authz/1", "its scheme 'ftp' is not https")]
    [InlineData("https://admin:secret@ca.test/authz/1", "it carries a user name or password")]
    [InlineData("/authz/1", "it is not an absolute URL")]
    public async Task AResourceUrlThatLeavesHttpsOrCarriesCredentialsIsRefusedAndNotRequested(string url, string why)
    {
        var (client, server) = Connect(Directory());
        server.On("POST /authz/1", _ => Json("""{"status":"valid","identifier":{"type":"dns","value":"a.example"},"challenges":[]}"""));
        var error = await Assert.ThrowsAsync<AcmeException>(() => client.GetAuthorizationAsync(url));
        Assert.Equal(AcmeFailure.MalformedResponse, error.Reason);
        Assert.Equal($"The ACME server https://ca.test/dir handed out the resource URL '{url}', which the appliance refuses: {why}. "
            + "The CA is misconfigured or its answer was tampered with; check the directory URL, or contact the CA.", error.Message);
        Assert.DoesNotContain(server.Requests, r => r.Route == "POST /authz/1");
    }

    [Fact]
    public async Task AResourceOnAnotherHttpsHostIsFollowed()
    {
        var (client, server) = Connect(Directory());
        server.On("POST /authz/1", _ => Json("""{"status":"valid","identifier":{"type":"dns","value":"a.example"},"challenges":[]}"""));
        var authorization = await client.GetAuthorizationAsync("https://cdn.ca.test/authz/1");
        Assert.Equal("valid", authorization.Status);
    }

    [Fact]
    public async Task AnOrderLocationOnPlainHttpIsRefused()
    {
        var (client, server) = Connect(Directory());
        server.On("POST /order", _ => Json("""{"status":"pending"}""", HttpStatusCode.Created, location: "http://ca.test/order/1"));
        var error = await Assert.ThrowsAsync<AcmeException>(() => client.NewOrderAsync([new AcmeIdentifier("dns", "a.example")], null, null));
        Assert.StartsWith("The ACME server https://ca.test/dir handed out the order URL (Location of newOrder) 'http://ca.test/order/1', which the appliance refuses: "
            + "it is plain http while the directory is https", error.Message);
    }

    [Fact]
    public async Task MalformedJsonFromTheDirectoryIsReportedAsSuch()
    {
        var (client, _) = Connect("{\"newNonce\": ");
        var error = await Assert.ThrowsAsync<AcmeException>(() => client.GetDirectoryAsync());
        Assert.Equal(AcmeFailure.MalformedResponse, error.Reason);
        Assert.StartsWith("The ACME server answered https://ca.test/dir with malformed JSON (", error.Message);
    }

    [Fact]
    public async Task AServerErrorWithoutAProblemDocumentMidOrderSaysTheStatus()
    {
        var (client, server) = Connect(Directory());
        server.On("POST /order", _ => new HttpResponseMessage(HttpStatusCode.InternalServerError) { Content = new StringContent("<html>oops</html>") });
        var error = await Assert.ThrowsAsync<AcmeException>(() => client.NewOrderAsync([new AcmeIdentifier("dns", "a.example")], null, null));
        Assert.Equal(AcmeFailure.MalformedResponse, error.Reason);
        Assert.Equal("The ACME server answered POST https://ca.test/order with HTTP 500 Internal Server Error and no problem document. Try again later; if it persists, check the directory URL.", error.Message);
    }

    [Fact]
    public async Task AnOrderIsPolledWhileProcessingHonouringRetryAfterOnTheInjectedClock()
    {
        var time = new FakeTimeProvider(Now);
        var clock = new TimerWatch(time);
        var server = new ScriptedAcmeHandler().On("GET /dir", _ => Json(Directory()), repeat: true);
        var client = new AcmeClient(new HttpClient(server), new Uri(Base + "/dir"), AcmeAccountKey.Create(), "https://ca.test/acct/1", clock);
        server.On("POST /order/3", _ =>
        {
            var response = Json("""{"status":"processing"}""");
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
            return response;
        }).On("POST /order/3", _ => Json("""{"status":"valid","certificate":"https://ca.test/cert/3"}"""));

        var wait = client.WaitForOrderAsync("https://ca.test/order/3", new AcmeOrder("processing", null, null, null, null, null, null, null), Now.AddMinutes(5));
        await clock.ArmedAsync(TimeSpan.FromSeconds(2)); // the first poll waits the default interval
        Assert.Equal(0, server.Requests.Count(r => r.Route == "POST /order/3"));
        time.Advance(TimeSpan.FromSeconds(2));
        await clock.ArmedAsync(TimeSpan.FromSeconds(7)); // then the order's Retry-After
        Assert.Equal(1, server.Requests.Count(r => r.Route == "POST /order/3"));
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        var order = await wait.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("https://ca.test/cert/3", order.Certificate);
    }
}
