/**
 * serialport's Linux binding with one change: a zero-byte read ends the line. bindings-cpp 13 retries
 * such a read at once, forever (serialport/bindings-cpp#162), so a pty whose other end went away (a sim
 * or QEMU that died) or an unplugged USB adapter spins a CPU and the port never reports the loss. Here
 * the read fails as a disconnect instead, which closes the port and tells the session. This reads the
 * binding's port internals (fd, poller), so the package is pinned and test/unit/pinned-internals.test.ts
 * checks them.
 */
import { read } from 'node:fs';
import { promisify } from 'node:util';
import { autoDetect, BindingsError, LinuxBinding, type AutoDetectTypes, type LinuxOpenOptions, type LinuxPortBinding } from '@serialport/bindings-cpp';

const readAsync = promisify(read);

/** A read error the stream layer treats as the line going away. */
function disconnected(message: string): Error {
  return Object.assign(new Error(message), { disconnect: true });
}

function endOnZeroRead(port: LinuxPortBinding): LinuxPortBinding {
  port.read = async (buffer: Buffer, offset: number, length: number) => {
    for (;;) {
      if (!port.isOpen || port.fd === null) throw new BindingsError('Port is not open', { canceled: true });
      try {
        const { bytesRead } = await readAsync(port.fd, buffer, offset, length, null);
        if (bytesRead === 0) throw disconnected('end of line: the other side closed it');
        return { bytesRead, buffer };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw e;
        // The port may have closed while the read was on the thread pool: its poller is stopped, and
        // polling it again crashes the process (a segfault when a port is closed right after binary mode
        // began, as a serial board does when it refuses a banner).
        if (!port.isOpen || port.fd === null) throw new BindingsError('Port is not open', { canceled: true });
        // Nothing to read yet: wait for the poller, as the stock binding does.
        await new Promise<void>((resolve, reject) => port.poller.once('readable', (err) => (err ? reject(err) : resolve())));
      }
    }
  };
  return port;
}

/** The binding openSerialTransport uses: the patched one on Linux, the stock one elsewhere. */
export function lineBinding(): AutoDetectTypes {
  if (process.platform !== 'linux') return autoDetect();
  return {
    list: () => LinuxBinding.list(),
    open: async (options: LinuxOpenOptions) => endOnZeroRead(await LinuxBinding.open(options)),
  };
}
