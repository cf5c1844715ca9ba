using System.Text.RegularExpressions;
using Appliance.Tests;
using static Microsoft.Playwright.Assertions;

namespace Appliance.Ui.Tests;

/// <summary>Users :: Administrators on an appliance of its own (the admins it adds and removes are no other test's business).</summary>
[Collection(BrowserCollection.Name)]
public sealed class UsersPageTests(BrowserFixture browser) : IAsyncLifetime
{
    private ApplianceProcess _appliance = null!;

    public async ValueTask InitializeAsync() => _appliance = await ApplianceProcess.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_appliance is not null) await _appliance.DisposeAsync();
    }

    private async Task<IPage> SignedInAsync(string username, string password)
    {
        var page = await browser.NewPageAsync(_appliance);
        await BrowserFixture.LogInAsync(page, password, username);
        return page;
    }

    private static async Task AddAdminAsync(IPage page, string username, string password, string again)
    {
        await page.GetByLabel("Username").FillAsync(username);
        await page.GetByLabel("Initial password (at least 10 characters)").FillAsync(password);
        await page.GetByLabel("Initial password again").FillAsync(again);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add Administrator" }).ClickAsync();
    }

    [Fact]
    public async Task AnAddedAdminMustChooseAPasswordAtFirstLoginAndAResetGivesAOneTimePasswordShownOnce()
    {
        var admin = await SignedInAsync("admin", ApplianceProcess.AdminPassword);
        await admin.GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Users :: Administrators" })).ToBeVisibleAsync();

        await AddAdminAsync(admin, "alice", "initial password 1", "initial password 2");
        await Expect(admin.GetByRole(AriaRole.Alert)).ToContainTextAsync("The initial password and its confirmation differ");
        await Expect(admin.GetByLabel("Username")).ToHaveValueAsync("alice");
        await AddAdminAsync(admin, "alice", "short", "short");
        await Expect(admin.GetByRole(AriaRole.Alert)).ToContainTextAsync("The initial password has 5 characters; use at least 10.");
        await Expect(admin.Locator("tr[data-admin='alice']")).ToHaveCountAsync(0);

        await AddAdminAsync(admin, "alice", "initial password 1", "initial password 1");
        await Expect(admin.GetByRole(AriaRole.Status)).ToContainTextAsync("The admin 'alice' is added.");
        await Expect(admin.Locator("tr[data-admin='alice']")).ToContainTextAsync("one-time password: to change at the next login");
        await AddAdminAsync(admin, "ALICE", "initial password 1", "initial password 1");
        await Expect(admin.GetByRole(AriaRole.Alert)).ToContainTextAsync("There is already an admin 'ALICE'; choose another username.");

        var alice = await SignedInAsync("alice", "initial password 1");
        await Expect(alice).ToHaveURLAsync(new Regex("/appliance/password$"));
        await alice.GetByLabel("Current password").FillAsync("initial password 1");
        await alice.GetByLabel("New password (at least 10 characters)").FillAsync("alice's own passphrase");
        await alice.GetByLabel("New password again").FillAsync("alice's own passphrase");
        await alice.GetByRole(AriaRole.Button, new() { Name = "Change Password" }).ClickAsync();
        await Expect(alice).ToHaveURLAsync(new Regex("/appliance/status$"));

        await admin.GotoAsync("/appliance/users");
        await Expect(admin.Locator("tr[data-admin='alice']")).ToContainTextAsync("chosen by the admin");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Reset the password of alice" }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Status)).ToContainTextAsync("The password of 'alice' is reset to a one-time password.");
        var oneTime = await admin.GetByLabel("One-time password of alice").InputValueAsync();
        Assert.Equal(16, oneTime.Length);
        await admin.GotoAsync("/appliance/users");
        await Expect(admin.GetByLabel("One-time password of alice")).ToHaveCountAsync(0);
        Assert.DoesNotContain(oneTime, await admin.ContentAsync());

        await alice.GotoAsync("/appliance/status"); // the reset ended alice's session
        await Expect(alice).ToHaveURLAsync(new Regex("/appliance/login"));
        await BrowserFixture.LogInAsync(alice, oneTime, "alice");
        await Expect(alice).ToHaveURLAsync(new Regex("/appliance/password$"));
        await Expect(alice.Locator(".notice.warn")).ToContainTextAsync("You logged in with a one-time password");
        await admin.ScreenshotAsync(new() { Path = Path.Combine(Paths.Out("screenshots"), "users.png"), FullPage = true });
        await alice.Context.CloseAsync();
        await admin.Context.CloseAsync();
    }

    [Fact]
    public async Task TheLastAdminCannotBeRemovedAndARemovedAdminCannotLogIn()
    {
        var admin = await SignedInAsync("admin", ApplianceProcess.AdminPassword);
        await admin.GotoAsync("/appliance/users");
        var others = new List<string>();
        foreach (var row in await admin.Locator("tr[data-admin]").AllAsync())
            if (await row.GetAttributeAsync("data-admin") is { } name && name != "admin") others.Add(name);
        foreach (var name in others)
        {
            await RemoveAsync(admin, name);
            await Expect(admin.GetByRole(AriaRole.Status)).ToContainTextAsync($"The admin '{name}' is removed");
        }
        await Expect(admin.Locator("tr[data-admin]")).ToHaveCountAsync(1);
        await Expect(admin.Locator("tr[data-admin='admin']")).ToContainTextAsync("you");
        await Expect(admin.GetByRole(AriaRole.Button, new() { Name = "Reset the password of admin" })).ToHaveCountAsync(0);

        await RemoveAsync(admin, "admin");
        await Expect(admin.GetByRole(AriaRole.Alert)).ToContainTextAsync(
            "You are the only admin: 'admin' cannot be removed. Add another admin first if someone else should manage the appliance.");
        await Expect(admin.Locator("tr[data-admin='admin']")).ToHaveCountAsync(1);

        await AddAdminAsync(admin, "bob", "bob's initial pass", "bob's initial pass");
        await Expect(admin.GetByRole(AriaRole.Status)).ToContainTextAsync("The admin 'bob' is added.");
        var bob = await SignedInAsync("bob", "bob's initial pass");
        await Expect(bob).ToHaveURLAsync(new Regex("/appliance/password$"));

        // Remove asks first: Cancel changes nothing.
        await admin.GetByRole(AriaRole.Button, new() { Name = "Remove bob", Exact = true }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Remove the admin 'bob'?" })).ToBeVisibleAsync();
        await Expect(admin.Locator(".notice.warn")).ToContainTextAsync("API tokens are revoked");
        await admin.GetByRole(AriaRole.Link, new() { Name = "Cancel", Exact = true }).ClickAsync();
        await Expect(admin.Locator("tr[data-admin='bob']")).ToHaveCountAsync(1);
        await RemoveAsync(admin, "bob");
        await Expect(admin.GetByRole(AriaRole.Status)).ToContainTextAsync("The admin 'bob' is removed; their sessions ended and their API tokens are revoked.");
        await bob.GotoAsync("/appliance/password");
        await Expect(bob).ToHaveURLAsync(new Regex("/appliance/login"));
        await BrowserFixture.LogInAsync(bob, "bob's initial pass", "bob");
        await Expect(bob.GetByRole(AriaRole.Alert)).ToContainTextAsync("The username or password is wrong");
        await bob.Context.CloseAsync();
        await admin.Context.CloseAsync();
    }

    /// <summary>Remove, then confirm on the confirmation page.</summary>
    private static async Task RemoveAsync(IPage page, string username)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = $"Remove {username}", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Remove the admin '{username}'?" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove", Exact = true }).ClickAsync();
    }
}
