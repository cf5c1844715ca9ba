using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace Appliance.Tests;

public sealed class FirstStartTests
{
    [Fact]
    public async Task WithoutAPasswordAOneTimePasswordIsPrintedAndMustBeChangedFirst()
    {
        await using var appliance = await ApplianceProcess.StartAsync(adminPassword: null);
        var match = Regex.Match(appliance.Output, "one-time password: (\\S+)");
        Assert.True(match.Success, appliance.Output);
        var oneTime = match.Groups[1].Value;

        using var client = await appliance.LoginAsync(oneTime);
        var refused = await client.GetAsync("certificates");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("Change the one-time password", (await Json.ReadAsync(refused)).GetProperty("detail").GetString());

        var tooShort = await client.PutAsJsonAsync("password", new { currentPassword = oneTime, newPassword = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, tooShort.StatusCode);
        Assert.Equal("The new password has 5 characters; use at least 10.", (await Json.ReadAsync(tooShort)).GetProperty("detail").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await client.PutAsJsonAsync("password", new { currentPassword = oneTime, newPassword = "a much better password" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("certificates")).StatusCode);
        using var again = await appliance.LoginAsync("a much better password");
    }

    [Fact]
    public async Task TheStateSurvivesARestartWithTheSameFactoryCertificate()
    {
        var state = Directory.CreateTempSubdirectory("appliance-state-").FullName;
        string factoryId;
        await using (var first = await ApplianceProcess.StartAsync(state))
        {
            using var client = await first.LoginAsync();
            var list = await Json.ReadAsync(await client.GetAsync("certificates"));
            factoryId = list.EnumerateArray().Single(c => c.GetProperty("isFactory").GetBoolean()).GetProperty("id").GetString()!;
            await first.TerminateAsync();
        }
        await using var second = await ApplianceProcess.StartAsync(state, adminPassword: null);
        Assert.DoesNotContain("one-time password", second.Output);
        using var again = await second.LoginAsync();
        var after = await Json.ReadAsync(await again.GetAsync("certificates"));
        Assert.Equal(factoryId, after.EnumerateArray().Single(c => c.GetProperty("isFactory").GetBoolean()).GetProperty("id").GetString());
        var mode = File.GetUnixFileMode(Path.Combine(state, "vault.key"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
    }

    [Fact]
    public async Task TheServiceRefusesToStartWithoutKeyProtectionChosen()
    {
        var info = new System.Diagnostics.ProcessStartInfo(ApplianceProcess.Binary) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "serve", "--state-dir", Directory.CreateTempSubdirectory().FullName }) info.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("--key-protection software", error);
    }

    [Fact]
    public async Task VersionPrintsTheGitVersion()
    {
        var info = new System.Diagnostics.ProcessStartInfo(ApplianceProcess.Binary, "--version") { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = (await process.StandardOutput.ReadToEndAsync()).Trim();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", output);
    }
}
