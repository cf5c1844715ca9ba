using System.Net;
using System.Text.RegularExpressions;
using Appliance.Tests;
using static Microsoft.Playwright.Assertions;

namespace Appliance.Ui.Tests;

[Collection(BrowserCollection.Name)]
public sealed class AccessTests(BrowserFixture browser)
{
    public static TheoryData<string, string> Pages => new()
    {
        { "GET", "/appliance/" },
        { "GET", "/appliance/status" },
        { "GET", "/appliance/networking" },
        { "GET", "/appliance/security/certificates" },
        { "GET", "/appliance/security/certificates/new" },
        { "GET", "/appliance/security/certificates/import" },
        { "GET", "/appliance/security/certificates/export?id=0123456789abcdef" },
        { "GET", "/appliance/security/certificates/delete?id=0123456789abcdef" },
        { "GET", "/appliance/security/requests/0123456789abcdef" },
        { "GET", "/appliance/security/requests/delete?id=0123456789abcdef" },
        { "GET", "/appliance/users" },
        { "GET", "/appliance/password" },
        { "GET", "/appliance/email" },
        { "GET", "/appliance/audit" },
        { "GET", "/appliance/no-such-page" },
        { "POST", "/appliance/security/certificates" },
        { "POST", "/appliance/security/certificates/import" },
        { "POST", "/appliance/security/certificates/new" },
        { "POST", "/appliance/security/certificates/export" },
        { "POST", "/appliance/security/certificates/delete" },
        { "POST", "/appliance/security/requests" },
        { "POST", "/appliance/security/requests/delete" },
        { "POST", "/appliance/users/tokens" },
        { "POST", "/appliance/users/tokens/0123456789abcdef/revoke" },
        { "POST", "/appliance/password" },
        { "POST", "/appliance/networking" },
        { "GET", "/appliance/security/acme/servers/new?type=custom" },
        { "POST", "/appliance/security/acme/servers/new" },
        { "POST", "/appliance/security/acme/servers/delete" },
        { "POST", "/appliance/security/acme/certificates" },
        { "POST", "/appliance/security/acme/certificates/renew" },
        { "POST", "/appliance/security/acme/certificates/delete" },
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task EveryPageRedirectsToTheLoginPageWithoutASession(string method, string path)
    {
        using var client = browser.Appliance.Client();
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(browser.Appliance.BaseUri, path));
        if (method == "POST") request.Content = new FormUrlEncodedContent([new("id", "0123456789abcdef")]);
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/appliance/login", response.Headers.Location?.OriginalString);
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
