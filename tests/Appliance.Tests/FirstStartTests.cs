using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace Appliance.Tests;

public sealed class FirstStartTests
{
    [Fact]
    public async Task AKeyRingFileAPowerCutLeftEmptyIsSetAsideAndTheServiceStartsAndServesTheLoginForm()
    {
        var state = Directory.CreateTempSubdirectory("appliance-state-").FullName;
        var keys = Directory.CreateDirectory(Path.Combine(state, "data-protection-keys")).FullName;
        var damaged = Path.Combine(keys, "key-00000000-0000-0000-0000-000000000000.xml");
        File.WriteAllBytes(damaged, []);

        await using var appliance = await ApplianceProcess.StartAsync(state);
        using var client = appliance.Client();
        var page = await client.GetAsync($"https://127.0.0.1:{appliance.HttpsPort}/appliance/login");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("__RequestVerificationToken", await page.Content.ReadAsStringAsync());
        Assert.True(File.Exists(damaged + ".damaged"), appliance.Output);
        Assert.False(File.Exists(damaged));
        Assert.Contains("is damaged", appliance.Output);
        Assert.Single(Directory.GetFiles(keys, "*.xml"));
    }

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
    public async Task ATooShortInitialPasswordFallsBackToAOneTimePasswordInsteadOfFailing()
    {
        await using var appliance = await ApplianceProcess.StartAsync(adminPassword: "short");
        Assert.Contains("The given admin password was not used: The new password has 5 characters; use at least 10.", appliance.Output);
        var match = Regex.Match(appliance.Output, "one-time password: (\\S+)");
        Assert.True(match.Success, appliance.Output);
        using var client = await appliance.LoginAsync(match.Groups[1].Value);
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
        var (exitCode, error) = await StartAsync("serve", "--state-dir", Directory.CreateTempSubdirectory().FullName);
        Assert.Equal(2, exitCode);
        Assert.Contains("--key-protection software", error);
    }

    [Fact]
    public async Task ADnsServerThatIsNotAnAddressIsRefusedAtStartInWords()
    {
        var (exitCode, error) = await StartWithSoftwareKeysAsync("--dns-server", "dns.example");
        Assert.Equal(2, exitCode);
        Assert.Contains("--dns-server dns.example: 'dns.example' is not a DNS server address; give an IP address, optionally with a port, such as 192.0.2.53 or 127.0.0.1:5353.", error);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("-1M")]
    [InlineData("2X")]
    [InlineData("16777216T")] // 2^64 bytes
    [InlineData("99999999999999999999")]
    public async Task ASiteMaxBodyThatIsNotAPositiveSizeIsRefusedAtStartInWords(string value)
    {
        var (exitCode, error) = await StartWithSoftwareKeysAsync("--site-max-body", value);
        Assert.Equal(2, exitCode);
        Assert.Contains($"--site-max-body {value}: give a size in bytes such as 1048576, 100M or 2G (K, M, G and T count in powers of 1024).", error);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("86401")]
    [InlineData("99999999999")]
    public async Task ASiteTimeoutOutsideOneSecondToADayIsRefusedAtStartInWords(string value)
    {
        var (exitCode, error) = await StartWithSoftwareKeysAsync("--site-timeout", value);
        Assert.Equal(2, exitCode);
        Assert.Contains($"--site-timeout {value}: give whole seconds from 1 to 86400.", error);
    }

    [Theory]
    [InlineData("--tls-ticket-rotation", "0")]
    [InlineData("--tls-ticket-rotation", "604801")]
    [InlineData("--tls-ticket-rotation", "12h")]
    [InlineData("--tls-session-lifetime", "-1")]
    [InlineData("--tls-session-lifetime", " 60")]
    [InlineData("--tls-session-lifetime", "99999999999")]
    public async Task ATicketRotationOrSessionLifetimeOutsideOneSecondToAWeekIsRefusedAtStartInWords(string option, string value)
    {
        var (exitCode, error) = await StartWithSoftwareKeysAsync(option, value);
        Assert.Equal(2, exitCode);
        Assert.Contains($"{option} {value}: give whole seconds from 1 to 604800.", error);
    }

    private static Task<(int ExitCode, string Error)> StartWithSoftwareKeysAsync(params string[] options) =>
        StartAsync(["serve", "--state-dir", Directory.CreateTempSubdirectory().FullName, "--key-protection", "software", .. options]);

    /// <summary>Runs the binary with <paramref name="args"/> until it exits (a refused start exits at once); its exit code and standard error.</summary>
    private static async Task<(int ExitCode, string Error)> StartAsync(params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo(ApplianceProcess.Binary) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await output;
        return (process.ExitCode, error);
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

public sealed class SystemdNotifyTests
{
    [Fact]
    public async Task TellsSystemdItIsReadyAndPingsTheWatchdog()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("notify-").FullName, "notify.sock");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        await using var appliance = await ApplianceProcess.StartWithEnvironmentAsync(
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = path, ["WATCHDOG_USEC"] = "1000000" }, null, ApplianceProcess.AdminPassword);
        var messages = new List<string>();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!(messages.Any(m => m.Contains("READY=1")) && messages.Count(m => m.Contains("WATCHDOG=1")) >= 2))
        {
            var received = await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, timeout.Token);
            messages.Add(System.Text.Encoding.UTF8.GetString(buffer, 0, received));
        }
        await appliance.TerminateAsync();
        var received2 = await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        var rest = System.Text.Encoding.UTF8.GetString(buffer, 0, received2);
        Assert.True(rest.Contains("STOPPING=1") || rest.Contains("WATCHDOG=1"), rest);
    }
}
