using Appliance.Platform.Files;

namespace Appliance.Platform.Tests;

public sealed class DurableFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("durable-file-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public void WriteCreatesTheFileWithItsBytesReadableByTheOwnerOnly()
    {
        var path = PathOf("vault.key");

        DurableFile.Write(path, [1, 2, 3]);

        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void WriteReplacesAnExistingFileAndLeavesNoTemporaryFileBehind()
    {
        var path = PathOf("vault.tpm");
        File.WriteAllBytes(path, [9, 9, 9, 9, 9]);

        DurableFile.Write(path, [7]);

        Assert.Equal([7], File.ReadAllBytes(path));
        Assert.Equal(["vault.tpm"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void WriteReplacesATemporaryFileACrashLeftBehind()
    {
        var path = PathOf("key.xml");
        File.WriteAllText(path + DurableFile.TemporarySuffix, "half a key from before the power cut, longer than the new one");

        DurableFile.Write(path, "<key/>"u8);

        Assert.Equal("<key/>", File.ReadAllText(path));
        Assert.False(File.Exists(path + DurableFile.TemporarySuffix));
    }

    [Fact]
    public void WriteIntoAMissingDirectoryFailsNamingThePath()
    {
        var path = PathOf("absent/vault.key");

        var error = Assert.ThrowsAny<IOException>(() => DurableFile.Write(path, [1]));

        Assert.Contains(PathOf("absent"), error.Message);
    }

    [Fact]
    public void MoveRenamesOverAnExistingFile()
    {
        File.WriteAllBytes(PathOf("vault.tpm.new"), [2]);
        File.WriteAllBytes(PathOf("vault.tpm"), [1]);

        DurableFile.Move(PathOf("vault.tpm.new"), PathOf("vault.tpm"));

        Assert.Equal([2], File.ReadAllBytes(PathOf("vault.tpm")));
        Assert.False(File.Exists(PathOf("vault.tpm.new")));
    }

    [Fact]
    public void MoveAcrossDirectoriesOfOneFileSystemLeavesNothingAtTheSource()
    {
        Directory.CreateDirectory(PathOf("aside"));
        File.WriteAllBytes(PathOf("key.xml"), [5]);

        DurableFile.Move(PathOf("key.xml"), PathOf("aside/key.xml.damaged"));

        Assert.Equal([5], File.ReadAllBytes(PathOf("aside/key.xml.damaged")));
        Assert.False(File.Exists(PathOf("key.xml")));
    }

    [Fact]
    public void SecurelyDeleteOverwritesTheContentWithZerosBeforeUnlinking()
    {
        // A hard link keeps the inode readable after the unlink: it shows what the blocks held when the name went.
        var path = PathOf("vault.key");
        var secret = Enumerable.Range(1, 3000).Select(i => (byte)(i % 251 + 1)).ToArray();
        File.WriteAllBytes(path, secret);
        var witness = PathOf("witness");
        Assert.Equal(0, Link(path, witness));

        DurableFile.SecurelyDelete(path);

        Assert.False(File.Exists(path));
        Assert.Equal(new byte[secret.Length], File.ReadAllBytes(witness));
    }

    [Fact]
    public void SecurelyDeleteOfAnAbsentFileDoesNothing()
    {
        DurableFile.SecurelyDelete(PathOf("never-written"));

        Assert.Empty(Directory.GetFileSystemEntries(_directory));
    }

    [Fact]
    public void SyncingTheDirectoryOfAPathInAMissingDirectoryFailsNamingTheDirectory()
    {
        var error = Assert.Throws<IOException>(() => DurableFile.SyncDirectoryOf(PathOf("gone/file")));

        Assert.StartsWith($"Cannot open the directory {PathOf("gone")} to make a file change in it durable: errno 2.", error.Message);
    }

    private static int Link(string existing, string created)
    {
        var start = new System.Diagnostics.ProcessStartInfo("ln") { ArgumentList = { existing, created } };
        using var process = System.Diagnostics.Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
