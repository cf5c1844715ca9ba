using System.Net;
using System.Net.Http.Json;

namespace Appliance.Tests;

/// <summary>users (admins) and audit under /appliance/api/v1 through the published binary.</summary>
public sealed class UserApiTests : IAsyncLifetime
{
    private ApplianceProcess _appliance = null!;

    public async ValueTask InitializeAsync() => _appliance = await ApplianceProcess.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_appliance is not null) await _appliance.DisposeAsync();
    }

    [Fact]
    public async Task AnAdminAddsResetsAndRemovesAnotherAdminAndEachChangeIsAudited()
    {
        using var admin = await _appliance.LoginAsync();
        var added = await admin.PostAsJsonAsync("users", new { username = "carol", password = "carol's initial" });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var carol = await Json.ReadAsync(added);
        Assert.Equal("carol", carol.GetProperty("username").GetString());
        Assert.True(carol.GetProperty("mustChangePassword").GetBoolean());

        // The initial password works once: only a password change is allowed until then.
        using var asCarol = await _appliance.LoginAsync("carol's initial", "carol");
        Assert.Equal(HttpStatusCode.Forbidden, (await asCarol.GetAsync("certificates")).StatusCode);

        var reset = await admin.PostAsync("users/carol/password-reset", null);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        var oneTime = (await Json.ReadAsync(reset)).GetProperty("oneTimePassword").GetString()!;
        Assert.Equal(16, oneTime.Length);
        Assert.Equal(HttpStatusCode.Unauthorized, (await asCarol.GetAsync("certificates")).StatusCode); // the reset ended carol's session
        using var again = await _appliance.LoginAsync(oneTime, "carol");

        var list = await Json.ReadAsync(await admin.GetAsync("users"));
        Assert.Equal(["admin", "carol"], list.EnumerateArray().Select(u => u.GetProperty("username").GetString()));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("users/carol")).StatusCode);
        var gone = await admin.DeleteAsync("users/carol");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("There is no admin 'carol'; it may have been removed already.", (await Json.ReadAsync(gone)).GetProperty("detail").GetString());

        var last = await admin.DeleteAsync("users/admin");
        Assert.Equal(HttpStatusCode.Conflict, last.StatusCode);
        Assert.Equal("You are the only admin: 'admin' cannot be removed. Add another admin first if someone else should manage the appliance.",
            (await Json.ReadAsync(last)).GetProperty("detail").GetString());

        var audit = await Json.ReadAsync(await admin.GetAsync("audit?limit=6"));
        var entries = audit.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(
            [
                ("Remove an admin", "refused"),
                ("Remove an admin", "refused"),
                ("Removed the admin 'carol' with their sessions and API tokens", "ok"),
                ("Logged in", "ok"),
                ("Reset the password of the admin 'carol' to a one-time password; their sessions ended and their API tokens were revoked", "ok"),
                ("Logged in", "ok"),
            ],
            entries.Select(e => (e.GetProperty("action").GetString(), e.GetProperty("outcome").GetString())));
        Assert.Equal("You are the only admin: 'admin' cannot be removed. Add another admin first if someone else should manage the appliance.",
            entries[0].GetProperty("detail").GetString());
        Assert.Equal("DELETE", entries[0].GetProperty("method").GetString());
        Assert.Equal("/appliance/api/v1/users/admin", entries[0].GetProperty("path").GetString());
        Assert.Equal("127.0.0.1", entries[0].GetProperty("address").GetString());
        Assert.Equal("carol", entries[3].GetProperty("username").GetString());
        Assert.True(audit.GetProperty("next").GetInt64() > 0);
    }

    [Fact]
    public async Task ChangingOnesPasswordEndsOnesOtherSessionsButKeepsThisOneAndTheApiTokens()
    {
        using var here = await _appliance.LoginAsync();
        using var elsewhere = await _appliance.LoginAsync();
        using var script = await TokenClientAsync(here, "backup script");

        Assert.Equal(HttpStatusCode.NoContent, (await here.PutAsJsonAsync("password", new { currentPassword = ApplianceProcess.AdminPassword, newPassword = "a brand new password" })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await elsewhere.GetAsync("status")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("status")).StatusCode);
        var admin = (await Json.ReadAsync(await here.GetAsync("users"))).EnumerateArray().Single();
        Assert.Equal(1, admin.GetProperty("sessions").GetInt32());
    }

    [Fact]
    public async Task ResettingAnAdminsPasswordEndsTheirSessionsAndRevokesTheirApiTokensForGood()
    {
        using var admin = await _appliance.LoginAsync();
        using var adminScript = await TokenClientAsync(admin, "admin's script");
        var (carol, carolScript) = await UsableAdminAsync(admin, "carol");
        using var carolElsewhere = await _appliance.LoginAsync("carol's own password", "carol");

        var reset = await admin.PostAsync("users/carol/password-reset", null);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await carol.GetAsync("status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await carolElsewhere.GetAsync("status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await carolScript.GetAsync("status")).StatusCode);

        // Still revoked after carol has chosen a new password; the resetting admin's own token is untouched.
        var oneTime = (await Json.ReadAsync(reset)).GetProperty("oneTimePassword").GetString()!;
        using var carolAgain = await _appliance.LoginAsync(oneTime, "carol");
        Assert.Equal(HttpStatusCode.NoContent, (await carolAgain.PutAsJsonAsync("password", new { currentPassword = oneTime, newPassword = "carol's next password" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await carolScript.GetAsync("status")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await adminScript.GetAsync("status")).StatusCode);
        Assert.Equal(["admin's script"], (await Json.ReadAsync(await admin.GetAsync("tokens"))).EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        carol.Dispose();
        carolScript.Dispose();
    }

    [Fact]
    public async Task RemovingAnAdminEndsTheirSessionsAndRevokesTheirApiTokens()
    {
        using var admin = await _appliance.LoginAsync();
        var (carol, carolScript) = await UsableAdminAsync(admin, "carol");

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("users/carol")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await carol.GetAsync("status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await carolScript.GetAsync("status")).StatusCode);
        Assert.Empty((await Json.ReadAsync(await admin.GetAsync("tokens"))).EnumerateArray());
        carol.Dispose();
        carolScript.Dispose();
    }

    /// <summary>A new admin who has chosen their own password, with a session and an API token of their own.</summary>
    private async Task<(HttpClient Session, HttpClient Script)> UsableAdminAsync(HttpClient admin, string username)
    {
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("users", new { username, password = $"{username}'s initial" })).StatusCode);
        var session = await _appliance.LoginAsync($"{username}'s initial", username);
        Assert.Equal(HttpStatusCode.NoContent, (await session.PutAsJsonAsync("password", new { currentPassword = $"{username}'s initial", newPassword = $"{username}'s own password" })).StatusCode);
        var script = await TokenClientAsync(session, $"{username}'s script");
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("status")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("status")).StatusCode);
        return (session, script);
    }

    /// <summary>A client authenticated by a new API token of the signed-in admin of <paramref name="session"/>.</summary>
    private async Task<HttpClient> TokenClientAsync(HttpClient session, string name)
    {
        var created = await session.PostAsJsonAsync("tokens", new { name });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var script = _appliance.Client();
        script.DefaultRequestHeaders.Authorization = new("Bearer", (await Json.ReadAsync(created)).GetProperty("token").GetString());
        return script;
    }

    [Theory]
    [InlineData("""{"username":"dave","password":"short"}""", 400, "The initial password has 5 characters; use at least 10.")]
    [InlineData("""{"username":"da ve","password":"long enough password"}""", 400, "The username 'da ve' cannot be used: use 1 to 64 letters, digits, '.', '-', '_' or '@'.")]
    [InlineData("""{"username":"Admin","password":"long enough password"}""", 409, "There is already an admin 'Admin'; choose another username.")]
    public async Task AnUnusableNewAdminIsRefusedInWords(string json, int status, string detail)
    {
        using var admin = await _appliance.LoginAsync();
        var response = await admin.PostAsync("users", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(detail, (await Json.ReadAsync(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task TheAuditLogRefusesALimitOutOfRange()
    {
        using var admin = await _appliance.LoginAsync();
        var response = await admin.GetAsync("audit?limit=5000");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("The limit 5000 is out of range: ask for 1 to 1000 entries per page.", (await Json.ReadAsync(response)).GetProperty("detail").GetString());
    }
}
