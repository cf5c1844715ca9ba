using Appliance.Hosting;

// The `appliance` command: `serve` runs the service; `--version` prints the firmware version.
if (args is ["--version"] or ["version"])
{
    Console.WriteLine(ApplianceVersion.Text);
    return 0;
}
if (args.Length == 0 || args[0] != "serve")
{
    Console.Error.WriteLine(ServeOptions.Usage);
    return args.Length == 0 || args[0] is "--help" or "-h" ? 0 : 2;
}
ServeOptions options;
try
{
    options = ServeOptions.Parse(args[1..]);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"appliance serve: {e.Message}");
    Console.Error.WriteLine(ServeOptions.Usage);
    return 2;
}
return await ApplianceServer.RunAsync(options);
