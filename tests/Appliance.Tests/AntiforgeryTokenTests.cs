using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace Appliance.Tests;

/// <summary>
/// The /appliance forms' anti-forgery tokens are bound to the signed-in admin's session: a token (with its cookie)
/// taken from another admin's session, or from the anonymous login page, is refused.
/// </summary>
public sealed partial class AntiforgeryTokenTests : IAsyncLifetime
{
    private const string SessionCookie = "__Secure-appliance_session";
    private const string AntiforgeryCookie = "__Secure-appliance_antiforgery";
    private ApplianceProcess _appliance = null!;

    public async ValueTask InitializeAsync() => _appliance = await ApplianceProcess.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_appliance is not null) await _appliance.DisposeAsync();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    /// <summary>The anti-forgery token in a page's forms.</summary>
    public static string FormToken(string html) => WebUtility.HtmlDecode(TokenField().Match(html) is { Success: true } m
        ? m.Groups[1].Value
        : throw new InvalidOperationException($"The page has no anti-forgery token field:\n{html}"));

    [Fact]
    public async Task AFormTokenFromOneAdminsSessionIsRefusedOnAnothersAndChangesNothing()
    {
        var (alice, aliceCookies) = await LoginAsync("admin", ApplianceProcess.AdminPassword);
        Assert.Equal(HttpStatusCode.Created, (await alice.PostAsJsonAsync("users", new { username = "bob", password = "bob's initial" })).StatusCode);
        var (bob, bobCookies) = await LoginAsync("bob", "bob's initial");
        Assert.Equal(HttpStatusCode.NoContent, (await bob.PutAsJsonAsync("password", new { currentPassword = "bob's initial", newPassword = "bob's own password" })).StatusCode);

        var (aliceToken, aliceCookie) = await FormOfAsync(alice, aliceCookies, "/appliance/users");
        var (bobToken, bobCookie) = await FormOfAsync(bob, bobCookies, "/appliance/users");
        var bobSession = Cookie(bobCookies, SessionCookie);

        // Alice's form (token and its cookie) sent with Bob's session: refused, nothing created.
        var forged = await PostAsync("/appliance/users/tokens", bobSession, aliceCookie, aliceToken, "from alice's form");
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("anti-forgery token is missing or invalid", await forged.Content.ReadAsStringAsync());

        // Bob's own form works: the refusal above was the binding, not the request.
        var own = await PostAsync("/appliance/users/tokens", bobSession, bobCookie, bobToken, "from bob's form");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);

        var names = (await Json.ReadAsync(await alice.GetAsync("tokens"))).EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.Equal(["from bob's form"], names);
    }

    [Fact]
    public async Task AFormTokenFromTheAnonymousLoginPageIsRefusedOnASignedInSession()
    {
        var anonymousCookies = new CookieContainer();
        using var anonymous = _appliance.Client(cookies: anonymousCookies);
        var (token, cookie) = await FormOfAsync(anonymous, anonymousCookies, "/appliance/login");

        var (admin, adminCookies) = await LoginAsync("admin", ApplianceProcess.AdminPassword);
        var forged = await PostAsync("/appliance/users/tokens", Cookie(adminCookies, SessionCookie), cookie, token, "from the login page");
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Empty((await Json.ReadAsync(await admin.GetAsync("tokens"))).EnumerateArray());
    }

    private async Task<(HttpClient Client, CookieContainer Cookies)> LoginAsync(string username, string password)
    {
        var cookies = new CookieContainer();
        var client = _appliance.Client(cookies: cookies);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("session", new { username, password })).StatusCode);
        return (client, cookies);
    }

    private async Task<(string Token, string Cookie)> FormOfAsync(HttpClient client, CookieContainer cookies, string path)
    {
        var page = await client.GetStringAsync(new Uri(_appliance.BaseUri, path));
        return (FormToken(page), Cookie(cookies, AntiforgeryCookie));
    }

    /// <summary>A cookie the client holds for /appliance, as NAME=VALUE.</summary>
    private string Cookie(CookieContainer container, string name)
    {
        var cookie = container.GetCookies(new Uri(_appliance.BaseUri, "/appliance/")).FirstOrDefault(c => c.Name == name)
            ?? throw new InvalidOperationException($"The client holds no cookie {name}.");
        return $"{cookie.Name}={cookie.Value}";
    }

    private async Task<HttpResponseMessage> PostAsync(string path, string sessionCookie, string antiforgeryCookie, string token, string name)
    {
        using var client = _appliance.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_appliance.BaseUri, path))
        {
            Content = new FormUrlEncodedContent([new("__RequestVerificationToken", token), new("name", name)]),
        };
        request.Headers.Add("Cookie", $"{sessionCookie}; {antiforgeryCookie}");
        return await client.SendAsync(request);
    }
}
