using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Appliance.Tpm.Marshalling;

/// <summary>One entry of a command's authorization area (Part 1, 18.6; Part 2, 10.13.2 TPMS_AUTH_COMMAND).</summary>
internal readonly record struct TpmAuthCommand(uint SessionHandle, byte[] Nonce, TpmaSession Attributes, byte[] Hmac);

/// <summary>One entry of a response's authorization area (Part 2, 10.13.3 TPMS_AUTH_RESPONSE).</summary>
internal readonly record struct TpmAuthResponse(byte[] Nonce, TpmaSession Attributes, byte[] Hmac);

/// <summary>
/// Authorizes one command: a password, an HMAC session or a policy session. It sees the command's
/// parameter area so that it can encrypt the first parameter and compute cpHash over the bytes as sent.
/// </summary>
internal interface ITpmAuthorization
{
    /// <param name="names">The Names of the command's handles, concatenated (cpHash input).</param>
    /// <param name="parameters">The parameter area; the first TPM2B may be encrypted in place.</param>
    TpmAuthCommand Authorize(TpmCc command, ReadOnlySpan<byte> names, Span<byte> parameters);

    /// <summary>Checks the response HMAC and decrypts the first response parameter in place.</summary>
    void Complete(TpmCc command, in TpmAuthResponse response, Span<byte> parameters);
}

/// <summary>A successful response split into its handle area and (decrypted) parameter area.</summary>
internal sealed record TpmResponse(uint[] Handles, byte[] Parameters);

/// <summary>Command and response framing (Part 1, 18: header, handles, authorization area, parameters).</summary>
internal static class Tpm2Frame
{
    public const int HeaderSize = 10;
    public const int MaxCommandSize = 4096;

    public static byte[] Build(TpmCc command, ReadOnlySpan<uint> handles, ReadOnlySpan<byte> names, ReadOnlySpan<byte> parameters, ITpmAuthorization? authorization)
    {
        Span<byte> buffer = stackalloc byte[MaxCommandSize];
        var writer = new Tpm2Writer(buffer);
        writer.WriteUInt16((ushort)(authorization is null ? TpmSt.NoSessions : TpmSt.Sessions));
        writer.WriteUInt32(0); // commandSize, patched below
        writer.WriteUInt32((uint)command);
        foreach (var handle in handles)
        {
            writer.WriteUInt32(handle);
        }

        var sendParameters = parameters.ToArray();
        if (authorization is not null)
        {
            var auth = authorization.Authorize(command, names, sendParameters);
            var authStart = writer.BeginSized32();
            writer.WriteUInt32(auth.SessionHandle);
            writer.WriteSized(auth.Nonce);
            writer.WriteByte((byte)auth.Attributes);
            writer.WriteSized(auth.Hmac);
            writer.EndSized32(authStart);
        }

        writer.WriteBytes(sendParameters);
        // commandSize counts the whole command, header included.
        writer.PatchUInt32(2, (uint)writer.Position);
        var frame = writer.ToArray();
        // Parameters may hold secrets (Create's sensitive data); the caller zeroes the returned command.
        CryptographicOperations.ZeroMemory(sendParameters);
        CryptographicOperations.ZeroMemory(buffer);
        return frame;
    }

    /// <summary>Checks the header, throws <see cref="TpmException"/> for a non-zero response code, and splits the rest.</summary>
    public static TpmResponse Parse(TpmCc command, ReadOnlySpan<byte> response, int handleCount, ITpmAuthorization? authorization)
    {
        var reader = new Tpm2Reader(response);
        var tag = (TpmSt)reader.ReadUInt16();
        var size = reader.ReadUInt32();
        var code = reader.ReadUInt32();
        if (size != response.Length)
        {
            throw new TpmFormatException($"{CommandName(command)} response says {size} bytes but {response.Length} arrived.");
        }

        if (code != TpmResponseCode.Success)
        {
            throw new TpmException(CommandName(command), code);
        }

        var handles = new uint[handleCount];
        for (var i = 0; i < handleCount; i++)
        {
            handles[i] = reader.ReadUInt32();
        }

        if (tag == TpmSt.NoSessions)
        {
            if (authorization is not null)
            {
                throw new TpmFormatException($"{CommandName(command)} response carries no authorization area although the command had a session.");
            }

            return new TpmResponse(handles, reader.ReadRest().ToArray());
        }

        if (tag != TpmSt.Sessions)
        {
            throw new TpmFormatException($"{CommandName(command)} response has tag 0x{(ushort)tag:X4}.");
        }

        // parameterSize is a UINT32 the TPM chose: checked against what arrived before it becomes an int (a size over
        // 2 GiB threw OverflowException, found by fuzzing).
        var parameterSize = reader.ReadUInt32();
        if (parameterSize > reader.Remaining)
        {
            throw new TpmFormatException($"{CommandName(command)} response says its parameters take {parameterSize} bytes but only {reader.Remaining} follow.");
        }

        var parameters = reader.ReadBytes((int)parameterSize).ToArray();
        var auth = new TpmAuthResponse(reader.ReadSized().ToArray(), (TpmaSession)reader.ReadByte(), reader.ReadSized().ToArray());
        reader.ExpectEnd($"{CommandName(command)} response");
        if (authorization is null)
        {
            throw new TpmFormatException($"{CommandName(command)} response carries an authorization area although the command had none.");
        }

        authorization.Complete(command, auth, parameters);
        return new TpmResponse(handles, parameters);
    }

    /// <summary>The Name of an entity that has no public area (Part 1, 16): its handle, big-endian.</summary>
    public static byte[] HandleName(uint handle)
    {
        var name = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(name, handle);
        return name;
    }

    public static string CommandName(TpmCc command) => command switch
    {
        TpmCc.PcrRead => "TPM2_PCR_Read",
        TpmCc.PcrExtend => "TPM2_PCR_Extend",
        TpmCc.PolicyPcr => "TPM2_PolicyPCR",
        _ => "TPM2_" + command,
    };
}
