using System.Net;
using System.Net.Http.Json;

namespace Appliance.Tests;

[Collection(ApplianceCollection.Name)]
public sealed class ApiAuthenticationTests(ApplianceFixture fixture)
{
    private ApplianceProcess Appliance => fixture.Appliance;

    public static TheoryData<string, string> Routes => new()
    {
        { "GET", "status" },
        { "GET", "certificates" },
        { "GET", "certificates/0123456789abcdef" },
        { "POST", "certificates/import" },
        { "POST", "certificates/export" },
        { "PUT", "certificates/default" },
        { "DELETE", "certificates/0123456789abcdef" },
        { "GET", "certificate-requests" },
        { "POST", "certificate-requests" },
        { "GET", "certificate-requests/0123456789abcdef" },
        { "DELETE", "certificate-requests/0123456789abcdef" },
        { "GET", "tokens" },
        { "POST", "tokens" },
        { "DELETE", "tokens/0123456789abcdef" },
        { "PUT", "password" },
        { "GET", "no-such-route" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task EveryRouteAnswers401WithoutAuthentication(string method, string path)
    {
        using var client = Appliance.Client();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT") request.Content = JsonContent.Create(new { });
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json.ReadAsync(response);
        Assert.Contains("Log in first", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task AForgedBearerTokenOrSessionCookieIsRefused()
    {
        using var client = Appliance.Client();
        client.DefaultRequestHeaders.Authorization = new("Bearer", "apl_forged");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("certificates")).StatusCode);

        using var cookieClient = Appliance.Client();
        cookieClient.DefaultRequestHeaders.Add("Cookie", "__Secure-appliance_session=forged");
        Assert.Equal(HttpStatusCode.Unauthorized, (await cookieClient.GetAsync("certificates")).StatusCode);
    }

    [Fact]
    public async Task AWrongPasswordIsRefusedWithAMessage()
    {
        using var client = Appliance.Client();
        var response = await client.PostAsJsonAsync("session", new { username = "admin", password = "not the password" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("The username or password is wrong; check both and try again.", (await Json.ReadAsync(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task LoginSetsASecureHttpOnlyCookieThatAuthenticates()
    {
        using var client = Appliance.Client();
        var response = await client.PostAsJsonAsync("session", new { username = "admin", password = ApplianceProcess.AdminPassword });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("status")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("session")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("status")).StatusCode);
    }

    [Fact]
    public async Task AnApiTokenIsShownOnceAuthenticatesAndStopsWorkingWhenRevoked()
    {
        using var admin = await Appliance.LoginAsync();
        var created = await admin.PostAsJsonAsync("tokens", new { name = "backup script" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = await Json.ReadAsync(created);
        var secret = token.GetProperty("token").GetString()!;
        var id = token.GetProperty("id").GetString()!;

        var listed = await Json.ReadAsync(await admin.GetAsync("tokens"));
        var entry = listed.EnumerateArray().Single(t => t.GetProperty("id").GetString() == id);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, entry.GetProperty("token").ValueKind);

        using var script = Appliance.Client();
        script.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("certificates")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await script.GetAsync("certificates")).StatusCode);
    }

    [Fact]
    public async Task StatusReportsSoftwareKeyProtectionAndTheVersion()
    {
        using var client = await Appliance.LoginAsync();
        var status = await Json.ReadAsync(await client.GetAsync("status"));
        Assert.Equal("software", status.GetProperty("keyProtection").GetString());
        Assert.Equal("open", status.GetProperty("vault").GetProperty("state").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, status.GetProperty("tpm").ValueKind);
        Assert.False(string.IsNullOrEmpty(status.GetProperty("version").GetString()));
        Assert.True(status.GetProperty("uptimeSeconds").GetInt64() > 0);
        Assert.False(string.IsNullOrEmpty(status.GetProperty("hostname").GetString()));
    }

    [Fact]
    public async Task PlainHttpRedirectsToHttpsOnTheSameHost()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var client = new HttpClient(handler);
        var response = await client.GetAsync($"http://127.0.0.1:{Appliance.HttpPort}/appliance?x=1");
        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal($"https://127.0.0.1:{Appliance.HttpsPort}/appliance?x=1", response.Headers.Location?.ToString());
    }
}
