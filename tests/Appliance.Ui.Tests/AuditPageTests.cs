using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Appliance.Tests;
using static Microsoft.Playwright.Assertions;

namespace Appliance.Ui.Tests;

/// <summary>Audit log: changes from the pages and the API, with who, what, when and from where, newest first, paged.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AuditPageTests(BrowserFixture browser)
{
    [Fact]
    public async Task ChangesAndFailedLoginsAreListedNewestFirstWithWhoWhatAndWhereAndGoToTheJournal()
    {
        var name = $"audit-{Guid.NewGuid():N}"[..14];
        var stranger = await browser.NewPageAsync();
        await BrowserFixture.LogInAsync(stranger, "not the password", "admin");
        await Expect(stranger.GetByRole(AriaRole.Alert)).ToContainTextAsync("The username or password is wrong");
        await stranger.Context.CloseAsync();

        var page = await browser.LoggedInPageAsync();
        await page.GotoAsync("/appliance/users");
        await page.GetByLabel("Token name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create API Token" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = $"Revoke {name}" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("is revoked");

        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Audit log :: Changes, newest first" })).ToBeVisibleAsync();
        var rows = page.Locator("#audit-log tbody tr");
        await Expect(rows.Nth(0)).ToContainTextAsync($"Revoked the API token '{name}'");
        await Expect(rows.Nth(0)).ToContainTextAsync("admin");
        await Expect(rows.Nth(0)).ToContainTextAsync("127.0.0.1");
        await Expect(rows.Nth(0)).ToContainTextAsync("ok (303)");
        await Expect(rows.Nth(0)).ToContainTextAsync($"POST /appliance/users/tokens/");
        await Expect(rows.Nth(1)).ToContainTextAsync($"Created the API token '{name}'");
        await Expect(rows.Nth(2)).ToContainTextAsync("Logged in");
        // The failed login is counted in its source's row for that minute (anonymous refusals are counted, not listed
        // one by one); other tests share this appliance, so that row may have started with another refusal and sit
        // further down.
        var anonymous = rows.Filter(new() { HasText = "from 127.0.0.1 in this minute" }).First;
        await Expect(anonymous).ToContainTextAsync("refused anonymous request");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Paths.Out("screenshots"), "audit-log.png") });

        // The same entries through the API (GET changes nothing, so it adds no entry), and in the service log.
        var api = await page.APIRequest.GetAsync("/appliance/api/v1/audit?limit=2");
        var first = JsonDocument.Parse(await api.TextAsync()).RootElement;
        Assert.Equal(2, first.GetProperty("entries").GetArrayLength());
        Assert.Equal($"Revoked the API token '{name}'", first.GetProperty("entries")[0].GetProperty("action").GetString());
        Assert.Equal("admin", first.GetProperty("entries")[0].GetProperty("username").GetString());
        var next = first.GetProperty("next").GetInt64();
        var older = JsonDocument.Parse(await (await page.APIRequest.GetAsync($"/appliance/api/v1/audit?limit=1&before={next}")).TextAsync()).RootElement;
        Assert.Equal("Logged in", older.GetProperty("entries")[0].GetProperty("action").GetString());
        Assert.Contains($"Audit: admin from 127.0.0.1: Revoked the API token '{name}' [ok]", browser.Appliance.Output);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task TheAuditLogShowsAHundredEntriesAPageWithOlderEntriesBehindALink()
    {
        // Refused changes by a signed-in admin are entries of their own (anonymous refusals are counted per address and minute).
        using var client = await browser.Appliance.LoginAsync();
        for (var i = 0; i < 105; i++)
            await client.PostAsJsonAsync("tokens", new { name = "" });
        var page = await browser.LoggedInPageAsync();
        await page.GotoAsync("/appliance/audit");
        var rows = page.Locator("#audit-log tbody tr");
        await Expect(rows).ToHaveCountAsync(100);
        await Expect(rows.Nth(1)).ToContainTextAsync("Give the API token a name of 1 to 64 printable characters");
        await page.GetByRole(AriaRole.Link, new() { Name = "Older entries" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/audit\\?before=\\d+$"));
        await Expect(rows.First).ToContainTextAsync("Create an API token");
        await page.GetByRole(AriaRole.Link, new() { Name = "Newest" }).ClickAsync();
        await Expect(rows.Nth(0)).ToContainTextAsync("Logged in");
        await page.Context.CloseAsync();
    }
}
