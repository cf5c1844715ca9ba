using System.Net;
using System.Text.RegularExpressions;
using Appliance.Tests;
using static Microsoft.Playwright.Assertions;

namespace Appliance.Ui.Tests;

[Collection(BrowserCollection.Name)]
public sealed class AccessTests(BrowserFixture browser)
{
    /// <summary>The only routes served without a signed-in admin: the login page and form, the stylesheet, and API login.</summary>
    private static readonly string[] Anonymous =
    [
        "GET /appliance/login", "POST /appliance/login", "GET /appliance/static/appliance.css", "POST /appliance/api/v1/session",
    ];

    /// <summary>A request path for a route pattern: every parameter (and catch-all) filled with a value that names nothing.</summary>
    private static string PathOf(string pattern) => Regex.Replace(pattern, "\\{[^}]+\\}", "0123456789abcdef");

    private static IEnumerable<string> Methods(string method) => method == "*" ? ["GET", "POST"] : [method];

    private static bool Changes(string method) => method is "POST" or "PUT" or "PATCH" or "DELETE";

    [Fact]
    public async Task EveryRouteOfTheServiceNeedsASignedInAdminExceptLogin()
    {
        var routes = await ApplianceProcess.RoutesAsync();
        Assert.Contains(routes, r => r is { Method: "GET", Pattern: "/appliance/email" });
        Assert.Contains(routes, r => r is { Method: "DELETE", Pattern: "/appliance/api/v1/users/{username}" });
        Assert.True(routes.Count > 60, $"only {routes.Count} routes listed");
        var failures = new List<string>();
        var anonymousSeen = new List<string>();
        using var client = browser.Appliance.Client();
        foreach (var (pattern, method) in routes.SelectMany(r => Methods(r.Method).Select(m => (r.Pattern, m))).Distinct())
        {
            var route = $"{method} {pattern}";
            if (!pattern.StartsWith("/appliance/", StringComparison.Ordinal))
            {
                failures.Add($"{route}: outside /appliance, where no sign-in is asked");
                continue;
            }
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(browser.Appliance.BaseUri, PathOf(pattern)));
            var api = pattern.StartsWith("/appliance/api/", StringComparison.Ordinal);
            if (Changes(method))
                request.Content = api ? new StringContent("{}", System.Text.Encoding.UTF8, "application/json") : new FormUrlEncodedContent([new("id", "0123456789abcdef")]);
            var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            var location = response.Headers.Location?.OriginalString ?? "";
            if (Anonymous.Contains(route))
            {
                anonymousSeen.Add(route);
                continue;
            }
            if (api && (status != 401 || response.Content.Headers.ContentType?.MediaType != "application/problem+json"))
                failures.Add($"{route}: {status} without a session, not 401 problem+json");
            if (!api && (status != 302 || !location.StartsWith("/appliance/login", StringComparison.Ordinal)))
                failures.Add($"{route}: {status} {location} without a session, not a redirect to the login page");
        }
        Assert.Empty(failures);
        Assert.Equal(Anonymous.Order(), anonymousSeen.Distinct().Order());
    }

    [Fact]
    public async Task TheAnonymousRoutesServeOnlyLoggingIn()
    {
        using var client = browser.Appliance.Client();
        var root = new Uri(browser.Appliance.BaseUri, "/");
        var login = await client.GetAsync(new Uri(root, "/appliance/login"));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Contains("Log in to /appliance", await login.Content.ReadAsStringAsync());
        var post = await client.PostAsync(new Uri(root, "/appliance/login"), new FormUrlEncodedContent([new("username", "admin"), new("password", ApplianceProcess.AdminPassword)]));
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode); // no anti-forgery token: no session
        Assert.Empty(post.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies.Where(c => c.StartsWith("__Secure-appliance_session=", StringComparison.Ordinal) && !c.StartsWith("__Secure-appliance_session=;", StringComparison.Ordinal)) : []);
        var css = await client.GetAsync(new Uri(root, "/appliance/static/appliance.css"));
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
        var session = await client.PostAsync("session", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, session.StatusCode);
    }

    [Fact]
    public async Task EveryStateChangingPageRouteRefusesAFormWithoutItsAntiForgeryTokenAndIsAudited()
    {
        var routes = await ApplianceProcess.RoutesAsync();
        var changing = routes.Where(r => Changes(r.Method)).ToList();
        Assert.NotEmpty(changing);
        // Every state-changing route says in words what it does, for the audit log.
        Assert.Empty(changing.Where(r => r.Audit == "-").Select(r => $"{r.Method} {r.Pattern}"));

        var page = await browser.LoggedInPageAsync();
        var failures = new List<string>();
        var pages = routes.Where(r => !r.Pattern.StartsWith("/appliance/api/", StringComparison.Ordinal))
            .SelectMany(r => Methods(r.Method).Where(Changes).Select(m => (Method: m, r.Pattern))).Distinct().ToList();
        Assert.Contains(pages, r => r.Pattern == "/appliance/email");
        foreach (var (method, pattern) in pages)
        {
            var form = page.APIRequest.CreateFormData();
            form.Set("id", "0123456789abcdef");
            form.Set("username", "admin");
            form.Set("name", "forged");
            var response = await page.APIRequest.FetchAsync(PathOf(pattern), new() { Method = method, Form = form, MaxRedirects = 0 });
            if (response.Status != 400 || !(await response.TextAsync()).Contains("anti-forgery token is missing or invalid", StringComparison.Ordinal))
                failures.Add($"{method} {pattern}: {response.Status} without the anti-forgery token");
        }
        Assert.Empty(failures);

        // Still signed in (the sign-out form was refused too), and the refusals are in the audit log.
        await page.GotoAsync("/appliance/audit");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Audit log", Exact = true })).ToBeVisibleAsync();
        await Expect(page.Locator("#audit-log tbody tr").Filter(new() { HasText = "Remove an admin" })
            .Filter(new() { HasText = "anti-forgery token is missing" }).First).ToContainTextAsync("refused (400)");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task TheApiKeepsAnswering401WithoutASession()
    {
        using var client = browser.Appliance.Client();
        var response = await client.GetAsync("certificates");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AfterLoginTheBrowserReturnsToThePageItAskedFor()
    {
        var page = await browser.NewPageAsync();
        await page.GotoAsync("/appliance/security/certificates");
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/login\\?returnUrl="));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Log in to /appliance" })).ToBeVisibleAsync();

        await page.GetByLabel("Username").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync("wrong password!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The username or password is wrong");

        await page.GetByLabel("Password").FillAsync(ApplianceProcess.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/security/certificates$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security :: Other Certificates" })).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task TheFirstLoginWithTheOneTimePasswordForcesAPasswordChangeAndSignOutEndsTheSession()
    {
        await using var appliance = await ApplianceProcess.StartAsync(adminPassword: null);
        var oneTime = Regex.Match(appliance.Output, "one-time password: (\\S+)").Groups[1].Value;
        Assert.NotEmpty(oneTime);
        var page = await browser.NewPageAsync(appliance);
        await BrowserFixture.LogInAsync(page, oneTime);
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/password$"));
        await Expect(page.Locator(".notice.warn")).ToContainTextAsync("You logged in with a one-time password");

        await page.GotoAsync("/appliance/security/certificates");
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/password$"));

        await page.GetByLabel("Current password").FillAsync(oneTime);
        await page.GetByLabel("New password (at least 10 characters)").FillAsync("short");
        await page.GetByLabel("New password again").FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change Password" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("use at least 10");

        const string chosen = "a much better passphrase";
        await page.GetByLabel("Current password").FillAsync(oneTime);
        await page.GetByLabel("New password (at least 10 characters)").FillAsync(chosen);
        await page.GetByLabel("New password again").FillAsync(chosen);
        await page.GetByRole(AriaRole.Button, new() { Name = "Change Password" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/status$"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Your password is changed.");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/login$"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("You are signed out.");
        await page.GotoAsync("/appliance/status");
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/login"));

        await BrowserFixture.LogInAsync(page, chosen);
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/status$"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AFormPostedWithoutItsAntiForgeryTokenIsRefusedWith400AndChangesNothing()
    {
        var page = await browser.LoggedInPageAsync();
        var form = page.APIRequest.CreateFormData();
        form.Set("name", "forged-token");
        var response = await page.APIRequest.PostAsync("/appliance/users/tokens", new() { Form = form, MaxRedirects = 0 });
        Assert.Equal(400, response.Status);
        Assert.Contains("anti-forgery token is missing or invalid", await response.TextAsync());

        var forged = page.APIRequest.CreateFormData();
        forged.Set("__RequestVerificationToken", "CfDJ8forged");
        forged.Set("friendlyName", "forged-self-signed");
        forged.Set("key", "ecdsa-p256");
        forged.Set("commonName", "forged.test.example");
        forged.Set("action", "selfsigned");
        response = await page.APIRequest.PostAsync("/appliance/security/certificates/new", new() { Form = forged, MaxRedirects = 0 });
        Assert.Equal(400, response.Status);

        await page.GotoAsync("/appliance/users");
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = "forged-token" })).ToHaveCountAsync(0);
        await page.GotoAsync("/appliance/security/certificates");
        await Expect(page.GetByText("forged-self-signed")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AnApiTokenIsShownOnceWorksForTheApiAndCanBeRevoked()
    {
        var page = await browser.LoggedInPageAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        await page.GetByLabel("Token name").FillAsync("ui-test script");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create API Token" }).ClickAsync();
        var secret = await page.GetByLabel("New API token").InputValueAsync();
        Assert.StartsWith("apl_", secret);

        using var client = browser.Appliance.Client();
        client.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("status")).StatusCode);

        await page.GotoAsync("/appliance/users");
        await Expect(page.GetByLabel("New API token")).ToHaveCountAsync(0);
        await Expect(page.GetByText(secret)).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke ui-test script" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The API token 'ui-test script' is revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("status")).StatusCode);
        await page.Context.CloseAsync();
    }
}
