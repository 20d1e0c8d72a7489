/**
 * nest: NestJS 12 TCP microservice with a @MessagePattern('echo') handler.
 * Decorators are applied by hand (no decorator syntax), so this runs under tsx and
 * the root tsconfig without experimentalDecorators.
 */
import "reflect-metadata";
import { Controller, Module } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { MessagePattern, Transport, type MicroserviceOptions } from "@nestjs/microservices";
import { echoJson, type BenchJson } from "../../lib/payload.js";
import { serveTarget, serverPort } from "../../lib/target.js";

let count = 0;

class EchoController {
  echo(data: BenchJson): BenchJson {
    count++;
    return echoJson(data);
  }
}
const echoDesc = Object.getOwnPropertyDescriptor(EchoController.prototype, "echo");
if (echoDesc === undefined) throw new Error("EchoController.echo missing");
MessagePattern("echo")(EchoController.prototype, "echo", echoDesc);
Object.defineProperty(EchoController.prototype, "echo", echoDesc);
Controller()(EchoController);

class AppModule {}
Module({ controllers: [EchoController] })(AppModule);

await serveTarget(async (cfg) => {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule, {
    transport: Transport.TCP,
    options: { host: cfg.host, port: serverPort(cfg) },
    logger: false,
  });
  await app.listen();
  return { count: () => count, close: () => app.close() };
});
